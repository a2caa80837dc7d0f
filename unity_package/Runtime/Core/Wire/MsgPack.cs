// A small, bounds-checked msgpack reader: no reflection, no code generation, safe under IL2CPP/AOT.
using System;
using System.Collections.Generic;
using System.Text;

namespace RealHands.Core.Wire
{
    /// <summary>The kinds of msgpack value the reader produces.</summary>
    public enum MsgKind { Nil, Bool, Int, UInt, Float, Str, Bin, Array, Map, Ext }

    /// <summary>One decoded msgpack value. Bin values point into the source buffer (no copy).</summary>
    public sealed class MsgValue
    {
        public MsgKind Kind;
        public bool Bool;
        public long Int;            // Int: any integer that fits a long (also positive ones)
        public ulong UInt;          // UInt: integers above long.MaxValue
        public double Float;
        public string Str;
        public ArraySegment<byte> Bin;
        public List<MsgValue> Array;
        public Dictionary<string, MsgValue> Map;   // string keys only (the wire format's rule)

        public static readonly MsgValue NilValue = new MsgValue { Kind = MsgKind.Nil };

        public bool IsInteger { get { return Kind == MsgKind.Int || Kind == MsgKind.UInt; } }
        public bool IsNumber { get { return IsInteger || Kind == MsgKind.Float; } }

        public MsgValue Get(string key)
        {
            MsgValue v;
            return Kind == MsgKind.Map && Map.TryGetValue(key, out v) ? v : null;
        }

        public override string ToString()
        {
            switch (Kind)
            {
                case MsgKind.Nil: return "nil";
                case MsgKind.Bool: return Bool ? "true" : "false";
                case MsgKind.Int: return Int.ToString();
                case MsgKind.UInt: return UInt.ToString();
                case MsgKind.Float: return Float.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                case MsgKind.Str: return "\"" + Str + "\"";
                case MsgKind.Bin: return "bin[" + Bin.Count + "]";
                case MsgKind.Array: return "array[" + Array.Count + "]";
                case MsgKind.Map: return "map{" + Map.Count + "}";
                default: return "ext";
            }
        }
    }

    /// <summary>Thrown for malformed or truncated msgpack; the message says where.</summary>
    public sealed class MsgPackException : Exception
    {
        public MsgPackException(string message) : base(message) { }
    }

    /// <summary>Parses one msgpack value from a byte range. Every length is checked against what is left, so a
    /// truncated or hostile buffer gives a MsgPackException, never an out-of-range read or a huge allocation.</summary>
    public sealed class MsgPackReader
    {
        public const int MaxDepth = 32;

        readonly byte[] _buf;
        readonly int _end;
        int _pos;

        MsgPackReader(byte[] buffer, int offset, int count)
        {
            if (buffer == null) throw new MsgPackException("no buffer");
            if (offset < 0 || count < 0 || offset > buffer.Length - count)
                throw new MsgPackException("range outside the buffer");
            _buf = buffer;
            _pos = offset;
            _end = offset + count;
        }

        /// <summary>The single value that fills <paramref name="buffer"/>[offset, offset+count).</summary>
        public static MsgValue Parse(byte[] buffer, int offset, int count)
        {
            var r = new MsgPackReader(buffer, offset, count);
            var v = r.ReadValue(0);
            if (r._pos != r._end)
                throw new MsgPackException((r._end - r._pos) + " bytes left over after the value");
            return v;
        }

        public static MsgValue Parse(byte[] buffer)
        {
            return Parse(buffer, 0, buffer == null ? 0 : buffer.Length);
        }

        void Need(long n)
        {
            if (n < 0 || n > _end - _pos)
                throw new MsgPackException("truncated: need " + n + " bytes at offset " + _pos + ", " + (_end - _pos) + " left");
        }

        byte U8() { Need(1); return _buf[_pos++]; }

        ulong BigEndian(int n)
        {
            Need(n);
            ulong v = 0;
            for (int i = 0; i < n; i++) v = (v << 8) | _buf[_pos + i];
            _pos += n;
            return v;
        }

        int Length(int n)
        {
            ulong v = BigEndian(n);
            if (v > int.MaxValue) throw new MsgPackException("length " + v + " too large");
            return (int)v;
        }

        MsgValue ReadValue(int depth)
        {
            if (depth > MaxDepth) throw new MsgPackException("nesting deeper than " + MaxDepth);
            byte b = U8();
            if (b <= 0x7f) return new MsgValue { Kind = MsgKind.Int, Int = b };
            if (b >= 0xe0) return new MsgValue { Kind = MsgKind.Int, Int = (sbyte)b };
            if ((b & 0xf0) == 0x80) return ReadMap(b & 0x0f, depth);
            if ((b & 0xf0) == 0x90) return ReadArray(b & 0x0f, depth);
            if ((b & 0xe0) == 0xa0) return ReadStr(b & 0x1f);
            switch (b)
            {
                case 0xc0: return MsgValue.NilValue;
                case 0xc2: return new MsgValue { Kind = MsgKind.Bool, Bool = false };
                case 0xc3: return new MsgValue { Kind = MsgKind.Bool, Bool = true };
                case 0xc4: return ReadBin(Length(1));
                case 0xc5: return ReadBin(Length(2));
                case 0xc6: return ReadBin(Length(4));
                case 0xc7: return SkipExt(Length(1) + 1);
                case 0xc8: return SkipExt(Length(2) + 1);
                case 0xc9: return SkipExt(Length(4) + 1L);
                case 0xca:
                {
                    uint bits = (uint)BigEndian(4);
                    return new MsgValue { Kind = MsgKind.Float, Float = BitConverter.ToSingle(BitConverter.GetBytes(bits), 0) };
                }
                case 0xcb:
                    return new MsgValue { Kind = MsgKind.Float, Float = BitConverter.Int64BitsToDouble((long)BigEndian(8)) };
                case 0xcc: return new MsgValue { Kind = MsgKind.Int, Int = (long)BigEndian(1) };
                case 0xcd: return new MsgValue { Kind = MsgKind.Int, Int = (long)BigEndian(2) };
                case 0xce: return new MsgValue { Kind = MsgKind.Int, Int = (long)BigEndian(4) };
                case 0xcf:
                {
                    ulong u = BigEndian(8);
                    return u <= long.MaxValue ? new MsgValue { Kind = MsgKind.Int, Int = (long)u }
                                              : new MsgValue { Kind = MsgKind.UInt, UInt = u };
                }
                case 0xd0: return new MsgValue { Kind = MsgKind.Int, Int = (sbyte)BigEndian(1) };
                case 0xd1: return new MsgValue { Kind = MsgKind.Int, Int = (short)BigEndian(2) };
                case 0xd2: return new MsgValue { Kind = MsgKind.Int, Int = (int)BigEndian(4) };
                case 0xd3: return new MsgValue { Kind = MsgKind.Int, Int = (long)BigEndian(8) };
                case 0xd4: return SkipExt(2);
                case 0xd5: return SkipExt(3);
                case 0xd6: return SkipExt(5);
                case 0xd7: return SkipExt(9);
                case 0xd8: return SkipExt(17);
                case 0xd9: return ReadStr(Length(1));
                case 0xda: return ReadStr(Length(2));
                case 0xdb: return ReadStr(Length(4));
                case 0xdc: return ReadArray(Length(2), depth);
                case 0xdd: return ReadArray(Length(4), depth);
                case 0xde: return ReadMap(Length(2), depth);
                case 0xdf: return ReadMap(Length(4), depth);
                default: throw new MsgPackException("byte 0x" + b.ToString("x2") + " at offset " + (_pos - 1) + " is not a msgpack type");
            }
        }

        MsgValue ReadStr(int n)
        {
            Need(n);
            string s;
            try { s = Utf8.GetString(_buf, _pos, n); }
            catch (ArgumentException) { throw new MsgPackException("string at offset " + _pos + " is not valid UTF-8"); }
            _pos += n;
            return new MsgValue { Kind = MsgKind.Str, Str = s };
        }

        static readonly Encoding Utf8 = new UTF8Encoding(false, true);

        MsgValue ReadBin(int n)
        {
            Need(n);
            var v = new MsgValue { Kind = MsgKind.Bin, Bin = new ArraySegment<byte>(_buf, _pos, n) };
            _pos += n;
            return v;
        }

        MsgValue SkipExt(long n)
        {
            Need(n);
            _pos += (int)n;
            return new MsgValue { Kind = MsgKind.Ext };
        }

        MsgValue ReadArray(int n, int depth)
        {
            Need(n); // every element takes at least one byte: no allocation beyond the input's size
            var list = new List<MsgValue>(n);
            for (int i = 0; i < n; i++) list.Add(ReadValue(depth + 1));
            return new MsgValue { Kind = MsgKind.Array, Array = list };
        }

        MsgValue ReadMap(int n, int depth)
        {
            Need(2L * n);
            var map = new Dictionary<string, MsgValue>(n, StringComparer.Ordinal);
            for (int i = 0; i < n; i++)
            {
                int at = _pos;
                var key = ReadValue(depth + 1);
                if (key.Kind != MsgKind.Str) throw new MsgPackException("map key at offset " + at + " is " + key.Kind + ", not a string");
                var value = ReadValue(depth + 1);
                map[key.Str] = value;  // a repeated key: the last one wins, as in Python's msgpack
            }
            return new MsgValue { Kind = MsgKind.Map, Map = map };
        }
    }
}
