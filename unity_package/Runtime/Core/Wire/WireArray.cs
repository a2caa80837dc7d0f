using System;
using System.Runtime.InteropServices;

namespace RealHands.Core.Wire
{
    /// <summary>A numeric array from the wire: dtype, shape and raw little-endian bytes in C order.</summary>
    public sealed class WireArray
    {
        public readonly string Dtype;
        public readonly int[] Shape;
        public readonly ArraySegment<byte> Data;

        public WireArray(string dtype, int[] shape, ArraySegment<byte> data)
        {
            Dtype = dtype;
            Shape = shape;
            Data = data;
        }

        public static int ItemSize(string dtype)
        {
            switch (dtype)
            {
                case "<f4": case "<u4": case "<i4": return 4;
                case "<f2": case "<u2": return 2;
                case "<u1": return 1;
                default: return 0;
            }
        }

        /// <summary>Number of elements (product of the shape).</summary>
        public int Count
        {
            get { long n = 1; foreach (var d in Shape) n *= d; return (int)n; }
        }

        /// <summary>The values as floats (from &lt;f4 or &lt;f2).</summary>
        public float[] ToFloats() { return ReadFloats(Dtype, Data, Count, null); }

        /// <summary>The values as ints (from &lt;i4, &lt;u4 below 2^31, &lt;u2 or &lt;u1).</summary>
        public int[] ToInts() { return ReadInts(Dtype, Data, Count); }

        /// <summary><paramref name="n"/> floats of <paramref name="dtype"/> (&lt;f4 or &lt;f2) from little-endian
        /// bytes, written into <paramref name="into"/> when it has exactly that length (no garbage for a stream of
        /// same-sized arrays), else into a new array. Returns the array written.</summary>
        public static float[] ReadFloats(string dtype, ArraySegment<byte> data, int n, float[] into)
        {
            var a = data.Array;
            int o = data.Offset;
            var result = into != null && into.Length == n ? into : new float[n];
            if (dtype == "<f4")
            {
                for (int i = 0; i < n; i++, o += 4)
                {
                    int bits = a[o] | (a[o + 1] << 8) | (a[o + 2] << 16) | (a[o + 3] << 24);
                    result[i] = Bits.Int32BitsToSingle(bits);
                }
            }
            else if (dtype == "<f2")
            {
                for (int i = 0; i < n; i++, o += 2)
                    result[i] = Bits.HalfToSingle((ushort)(a[o] | (a[o + 1] << 8)));
            }
            else throw new WireException("array of " + dtype + " read as floats");
            return result;
        }

        /// <summary><paramref name="n"/> ints of <paramref name="dtype"/> from little-endian bytes, in a new array.</summary>
        public static int[] ReadInts(string dtype, ArraySegment<byte> data, int n)
        {
            var a = data.Array;
            int o = data.Offset;
            var result = new int[n];
            switch (dtype)
            {
                case "<i4":
                case "<u4":
                    for (int i = 0; i < n; i++, o += 4)
                    {
                        uint u = (uint)(a[o] | (a[o + 1] << 8) | (a[o + 2] << 16) | (a[o + 3] << 24));
                        if (dtype == "<u4" && u > int.MaxValue) throw new WireException("u4 value " + u + " out of range");
                        result[i] = (int)u;
                    }
                    break;
                case "<u2":
                    for (int i = 0; i < n; i++, o += 2) result[i] = a[o] | (a[o + 1] << 8);
                    break;
                case "<u1":
                    for (int i = 0; i < n; i++) result[i] = a[o + i];
                    break;
                default: throw new WireException("array of " + dtype + " read as ints");
            }
            return result;
        }
    }

    /// <summary>Bit-level conversions that do not depend on the machine's byte order.</summary>
    public static class Bits
    {
        [StructLayout(LayoutKind.Explicit)]
        struct FloatBits
        {
            [FieldOffset(0)] public int Int;
            [FieldOffset(0)] public float Float;
        }

        /// <summary>The float with these IEEE 754 bits (no allocation; BitConverter's is missing from older profiles).</summary>
        public static float Int32BitsToSingle(int bits)
        {
            var u = new FloatBits { Int = bits };
            return u.Float;
        }

        /// <summary>IEEE 754 binary16 to float (subnormals, infinities and NaN included).</summary>
        public static float HalfToSingle(ushort h)
        {
            int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
            float v;
            if (exp == 0) v = mant * (1f / 16777216f);                   // subnormal: mant * 2^-24
            else if (exp == 31) v = mant == 0 ? float.PositiveInfinity : float.NaN;
            else return Int32BitsToSingle((sign << 31) | ((exp + 112) << 23) | (mant << 13));  // rebias 15 -> 127
            return sign == 1 ? -v : v;
        }
    }
}
