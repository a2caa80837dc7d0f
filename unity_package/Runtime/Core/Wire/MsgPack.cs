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

    /// <summary>Reusable storage for parsed values, so that parsing a stream of messages makes no garbage: a parse
    /// given an arena takes its values (with their lists and maps) from it, and the values of the previous parse with
    /// the same arena become invalid. Short ASCII strings (keys, enum values) are interned: the same text gives the same
    /// string object, allocated once. Not thread-safe: one arena per thread.</summary>
    public sealed class MsgArena
    {
        /// <summary>Strings of at most this many bytes are interned; at most <see cref="MaxInterned"/> of them (a
        /// stream of ever-new keys cannot grow the table without bound: past it, strings are allocated as usual).</summary>
        public const int MaxInternedBytes = 32, MaxInterned = 512;

        readonly List<MsgValue> _values = new List<MsgValue>();
        int _used;
        readonly Dictionary<ulong, string> _strings = new Dictionary<ulong, string>();

        /// <summary>Values handed out by the current parse.</summary>
        public int InUse { get { return _used; } }

        internal void Reset() { _used = 0; }

        internal MsgValue Take(MsgKind kind)
        {
            if (_used == _values.Count) _values.Add(new MsgValue());
            var v = _values[_used++];
            v.Kind = kind;
            return v;
        }

        /// <summary>The interned string of the ASCII bytes buf[pos, pos+n), or null when they are not short ASCII.</summary>
        internal string Intern(byte[] buf, int pos, int n)
        {
            if (n > MaxInternedBytes) return null;
            ulong h = 14695981039346656037UL;   // FNV-1a 64
            for (int i = 0; i < n; i++)
            {
                byte b = buf[pos + i];
                if (b >= 0x80) return null;
                h = (h ^ b) * 1099511628211UL;
            }
            h ^= (ulong)n << 56;
            string s;
            if (_strings.TryGetValue(h, out s))
            {
                if (s.Length == n)
                {
                    int i = 0;
                    while (i < n && s[i] == buf[pos + i]) i++;
                    if (i == n) return s;
                }
                return null;   // a hash collision: allocate this one as usual
            }
            if (_strings.Count >= MaxInterned) return null;
            s = Encoding.ASCII.GetString(buf, pos, n);
            _strings[h] = s;
            return s;
        }
    }

    /// <summary>Parses one msgpack value from a byte range. Every length is checked against what is left, so a
    /// truncated or hostile buffer gives a MsgPackException, never an out-of-range read or a huge allocation.</summary>
    public struct MsgPackReader
    {
        public const int MaxDepth = 32;

        readonly byte[] _buf;
        readonly int _end;
        readonly MsgArena _arena;
        int _pos;

        MsgPackReader(byte[] buffer, int offset, int count, MsgArena arena)
        {
            _arena = arena;
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
            return Parse(buffer, offset, count, null);
        }

        /// <summary>As <see cref="Parse(byte[], int, int)"/>, with the values taken from <paramref name="arena"/>
        /// (null: new ones): no garbage in steady state, and the arena's previous values are reused, so they must
        /// no longer be in use.</summary>
        public static MsgValue Parse(byte[] buffer, int offset, int count, MsgArena arena)
        {
            if (arena != null) arena.Reset();
            var r = new MsgPackReader(buffer, offset, count, arena);
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

        MsgValue New(MsgKind kind)
        {
            if (_arena != null) return _arena.Take(kind);
            return new MsgValue { Kind = kind };
        }

        MsgValue Integer(long v) { var m = New(MsgKind.Int); m.Int = v; return m; }

        MsgValue ReadValue(int depth)
        {
            if (depth > MaxDepth) throw new MsgPackException("nesting deeper than " + MaxDepth);
            byte b = U8();
            if (b <= 0x7f) return Integer(b);
            if (b >= 0xe0) return Integer((sbyte)b);
            if ((b & 0xf0) == 0x80) return ReadMap(b & 0x0f, depth);
            if ((b & 0xf0) == 0x90) return ReadArray(b & 0x0f, depth);
            if ((b & 0xe0) == 0xa0) return ReadStr(b & 0x1f);
            switch (b)
            {
                case 0xc0: return MsgValue.NilValue;
                case 0xc2: { var m = New(MsgKind.Bool); m.Bool = false; return m; }
                case 0xc3: { var m = New(MsgKind.Bool); m.Bool = true; return m; }
                case 0xc4: return ReadBin(Length(1));
                case 0xc5: return ReadBin(Length(2));
                case 0xc6: return ReadBin(Length(4));
                case 0xc7: return SkipExt(Length(1) + 1);
                case 0xc8: return SkipExt(Length(2) + 1);
                case 0xc9: return SkipExt(Length(4) + 1L);
                case 0xca:
                {
                    var m = New(MsgKind.Float);
                    m.Float = Bits.Int32BitsToSingle((int)BigEndian(4));
                    return m;
                }
                case 0xcb:
                {
                    var m = New(MsgKind.Float);
                    m.Float = BitConverter.Int64BitsToDouble((long)BigEndian(8));
                    return m;
                }
                case 0xcc: return Integer((long)BigEndian(1));
                case 0xcd: return Integer((long)BigEndian(2));
                case 0xce: return Integer((long)BigEndian(4));
                case 0xcf:
                {
                    ulong u = BigEndian(8);
                    if (u <= long.MaxValue) return Integer((long)u);
                    var m = New(MsgKind.UInt);
                    m.UInt = u;
                    return m;
                }
                case 0xd0: return Integer((sbyte)BigEndian(1));
                case 0xd1: return Integer((short)BigEndian(2));
                case 0xd2: return Integer((int)BigEndian(4));
                case 0xd3: return Integer((long)BigEndian(8));
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
            string s = _arena != null ? _arena.Intern(_buf, _pos, n) : null;
            if (s == null)
            {
                try { s = Utf8.GetString(_buf, _pos, n); }
                catch (ArgumentException) { throw new MsgPackException("string at offset " + _pos + " is not valid UTF-8"); }
            }
            _pos += n;
            var v = New(MsgKind.Str);
            v.Str = s;
            return v;
        }

        static readonly Encoding Utf8 = new UTF8Encoding(false, true);

        MsgValue ReadBin(int n)
        {
            Need(n);
            var v = New(MsgKind.Bin);
            v.Bin = new ArraySegment<byte>(_buf, _pos, n);
            _pos += n;
            return v;
        }

        MsgValue SkipExt(long n)
        {
            Need(n);
            _pos += (int)n;
            return New(MsgKind.Ext);
        }

        MsgValue ReadArray(int n, int depth)
        {
            Need(n); // every element takes at least one byte: no allocation beyond the input's size
            var v = New(MsgKind.Array);
            var list = _arena != null && v.Array != null ? v.Array : new List<MsgValue>(n);
            list.Clear();
            v.Array = list;   // set before the elements: the arena may hand this value's list out again only after Reset
            for (int i = 0; i < n; i++) list.Add(ReadValue(depth + 1));
            return v;
        }

        MsgValue ReadMap(int n, int depth)
        {
            Need(2L * n);
            var v = New(MsgKind.Map);
            var map = _arena != null && v.Map != null ? v.Map : new Dictionary<string, MsgValue>(n, StringComparer.Ordinal);
            map.Clear();
            v.Map = map;
            for (int i = 0; i < n; i++)
            {
                int at = _pos;
                var key = ReadValue(depth + 1);
                if (key.Kind != MsgKind.Str) throw new MsgPackException("map key at offset " + at + " is " + key.Kind + ", not a string");
                var value = ReadValue(depth + 1);
                map[key.Str] = value;  // a repeated key: the last one wins, as in Python's msgpack
            }
            return v;
        }
    }
}
