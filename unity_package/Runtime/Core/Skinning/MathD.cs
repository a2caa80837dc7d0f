// Small double-precision vector, quaternion and affine types: the core needs no UnityEngine and no System.Numerics.
using System;

namespace RealHands.Core.Skinning
{
    public struct Vec3d
    {
        public double X, Y, Z;
        public Vec3d(double x, double y, double z) { X = x; Y = y; Z = z; }
        public static Vec3d operator +(Vec3d a, Vec3d b) { return new Vec3d(a.X + b.X, a.Y + b.Y, a.Z + b.Z); }
        public static Vec3d operator -(Vec3d a, Vec3d b) { return new Vec3d(a.X - b.X, a.Y - b.Y, a.Z - b.Z); }
        public static Vec3d operator -(Vec3d a) { return new Vec3d(-a.X, -a.Y, -a.Z); }
        public static Vec3d operator *(Vec3d a, double s) { return new Vec3d(a.X * s, a.Y * s, a.Z * s); }
        public static double Dot(Vec3d a, Vec3d b) { return a.X * b.X + a.Y * b.Y + a.Z * b.Z; }
        public static Vec3d Cross(Vec3d a, Vec3d b) { return new Vec3d(a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X); }
        public static Vec3d Lerp(Vec3d a, Vec3d b, double t) { return a + (b - a) * t; }
        public double Length { get { return Math.Sqrt(X * X + Y * Y + Z * Z); } }
        public Vec3d Normalized { get { double n = Length; return n > 1e-12 ? this * (1.0 / n) : new Vec3d(0, 0, 0); } }
        public static Vec3d At(float[] a, int i) { return new Vec3d(a[3 * i], a[3 * i + 1], a[3 * i + 2]); }
        public override string ToString() { return "(" + X.ToString("F5") + ", " + Y.ToString("F5") + ", " + Z.ToString("F5") + ")"; }
    }

    /// <summary>Unit quaternion (x, y, z, w) for rotations; same matrix convention as Unity's Quaternion.</summary>
    public struct Quatd
    {
        public double X, Y, Z, W;
        public Quatd(double x, double y, double z, double w) { X = x; Y = y; Z = z; W = w; }
        public static readonly Quatd Identity = new Quatd(0, 0, 0, 1);

        /// <summary>Rotation by the axis-angle vector (ax, ay, az): axis = v/|v|, angle = |v| radians, right-hand rule.</summary>
        public static Quatd FromAxisAngle(double ax, double ay, double az)
        {
            double angle = Math.Sqrt(ax * ax + ay * ay + az * az);
            if (angle < 1e-12) return new Quatd(ax * 0.5, ay * 0.5, az * 0.5, 1).Normalized;
            double s = Math.Sin(angle * 0.5) / angle;
            return new Quatd(ax * s, ay * s, az * s, Math.Cos(angle * 0.5));
        }

        public static Quatd operator *(Quatd a, Quatd b)
        {
            return new Quatd(
                a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
                a.W * b.Y - a.X * b.Z + a.Y * b.W + a.Z * b.X,
                a.W * b.Z + a.X * b.Y - a.Y * b.X + a.Z * b.W,
                a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z);
        }

        public Quatd Conjugate { get { return new Quatd(-X, -Y, -Z, W); } }

        public Quatd Normalized
        {
            get
            {
                double n = Math.Sqrt(X * X + Y * Y + Z * Z + W * W);
                return n > 1e-15 ? new Quatd(X / n, Y / n, Z / n, W / n) : Identity;
            }
        }

        public Vec3d Rotate(Vec3d v)
        {
            var u = new Vec3d(X, Y, Z);
            var t = Vec3d.Cross(u, v) * 2.0;
            return v + t * W + Vec3d.Cross(u, t);
        }

        public static double Dot(Quatd a, Quatd b) { return a.X * b.X + a.Y * b.Y + a.Z * b.Z + a.W * b.W; }

        /// <summary>Shortest-path spherical interpolation.</summary>
        public static Quatd Slerp(Quatd a, Quatd b, double t)
        {
            double d = Dot(a, b);
            if (d < 0) { b = new Quatd(-b.X, -b.Y, -b.Z, -b.W); d = -d; }
            if (d > 0.9995)
                return new Quatd(a.X + (b.X - a.X) * t, a.Y + (b.Y - a.Y) * t, a.Z + (b.Z - a.Z) * t, a.W + (b.W - a.W) * t).Normalized;
            double th = Math.Acos(d), s = Math.Sin(th);
            double wa = Math.Sin((1 - t) * th) / s, wb = Math.Sin(t * th) / s;
            return new Quatd(a.X * wa + b.X * wb, a.Y * wa + b.Y * wb, a.Z * wa + b.Z * wb, a.W * wa + b.W * wb);
        }

        /// <summary>The smallest rotation taking direction a to direction b.</summary>
        public static Quatd FromTo(Vec3d a, Vec3d b)
        {
            a = a.Normalized; b = b.Normalized;
            double d = Vec3d.Dot(a, b);
            if (d < -0.999999)
            {
                var axis = Vec3d.Cross(new Vec3d(1, 0, 0), a);
                if (axis.Length < 1e-6) axis = Vec3d.Cross(new Vec3d(0, 1, 0), a);
                axis = axis.Normalized;
                return new Quatd(axis.X, axis.Y, axis.Z, 0);
            }
            var c = Vec3d.Cross(a, b);
            return new Quatd(c.X, c.Y, c.Z, 1 + d).Normalized;
        }

        /// <summary>Rotation whose +z is <paramref name="forward"/> and whose +y is as close to <paramref name="up"/> as it can be
        /// (Unity's Quaternion.LookRotation, computed from the right-handed cross products of the input axes).</summary>
        public static Quatd LookRotation(Vec3d forward, Vec3d up)
        {
            var z = forward.Normalized;
            var x = Vec3d.Cross(up, z).Normalized;
            if (x.Length < 1e-9) x = Vec3d.Cross(Math.Abs(z.Y) < 0.9 ? new Vec3d(0, 1, 0) : new Vec3d(1, 0, 0), z).Normalized;
            var y = Vec3d.Cross(z, x);
            return FromMatrix(x.X, y.X, z.X, x.Y, y.Y, z.Y, x.Z, y.Z, z.Z);
        }

        /// <summary>From a rotation matrix given row by row.</summary>
        public static Quatd FromMatrix(double m00, double m01, double m02, double m10, double m11, double m12, double m20, double m21, double m22)
        {
            double tr = m00 + m11 + m22;
            Quatd q;
            if (tr > 0)
            {
                double s = Math.Sqrt(tr + 1.0) * 2;
                q = new Quatd((m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s);
            }
            else if (m00 > m11 && m00 > m22)
            {
                double s = Math.Sqrt(1.0 + m00 - m11 - m22) * 2;
                q = new Quatd(0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s);
            }
            else if (m11 > m22)
            {
                double s = Math.Sqrt(1.0 + m11 - m00 - m22) * 2;
                q = new Quatd((m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s);
            }
            else
            {
                double s = Math.Sqrt(1.0 + m22 - m00 - m11) * 2;
                q = new Quatd((m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s);
            }
            return q.Normalized;
        }

        /// <summary>Angle between two rotations, radians.</summary>
        public static double Angle(Quatd a, Quatd b)
        {
            double d = Math.Min(1.0, Math.Abs(Dot(a.Normalized, b.Normalized)));
            return 2 * Math.Acos(d);
        }
    }

    /// <summary>A 3x4 affine transform (rotation/scale block R, translation T) applied as R v + T.</summary>
    public struct Affine3d
    {
        public double M00, M01, M02, M03, M10, M11, M12, M13, M20, M21, M22, M23;

        public static Affine3d FromRotationTranslation(Quatd q, Vec3d t)
        {
            double x = q.X, y = q.Y, z = q.Z, w = q.W;
            return new Affine3d
            {
                M00 = 1 - 2 * (y * y + z * z), M01 = 2 * (x * y - z * w), M02 = 2 * (x * z + y * w), M03 = t.X,
                M10 = 2 * (x * y + z * w), M11 = 1 - 2 * (x * x + z * z), M12 = 2 * (y * z - x * w), M13 = t.Y,
                M20 = 2 * (x * z - y * w), M21 = 2 * (y * z + x * w), M22 = 1 - 2 * (x * x + y * y), M23 = t.Z,
            };
        }

        public static Affine3d operator *(Affine3d a, Affine3d b)
        {
            return new Affine3d
            {
                M00 = a.M00 * b.M00 + a.M01 * b.M10 + a.M02 * b.M20,
                M01 = a.M00 * b.M01 + a.M01 * b.M11 + a.M02 * b.M21,
                M02 = a.M00 * b.M02 + a.M01 * b.M12 + a.M02 * b.M22,
                M03 = a.M00 * b.M03 + a.M01 * b.M13 + a.M02 * b.M23 + a.M03,
                M10 = a.M10 * b.M00 + a.M11 * b.M10 + a.M12 * b.M20,
                M11 = a.M10 * b.M01 + a.M11 * b.M11 + a.M12 * b.M21,
                M12 = a.M10 * b.M02 + a.M11 * b.M12 + a.M12 * b.M22,
                M13 = a.M10 * b.M03 + a.M11 * b.M13 + a.M12 * b.M23 + a.M13,
                M20 = a.M20 * b.M00 + a.M21 * b.M10 + a.M22 * b.M20,
                M21 = a.M20 * b.M01 + a.M21 * b.M11 + a.M22 * b.M21,
                M22 = a.M20 * b.M02 + a.M21 * b.M12 + a.M22 * b.M22,
                M23 = a.M20 * b.M03 + a.M21 * b.M13 + a.M22 * b.M23 + a.M23,
            };
        }

        public Vec3d Apply(Vec3d v)
        {
            return new Vec3d(M00 * v.X + M01 * v.Y + M02 * v.Z + M03,
                             M10 * v.X + M11 * v.Y + M12 * v.Z + M13,
                             M20 * v.X + M21 * v.Y + M22 * v.Z + M23);
        }

        public Vec3d Translation { get { return new Vec3d(M03, M13, M23); } }

        public Vec3d RotateOnly(Vec3d v)
        {
            return new Vec3d(M00 * v.X + M01 * v.Y + M02 * v.Z, M10 * v.X + M11 * v.Y + M12 * v.Z, M20 * v.X + M21 * v.Y + M22 * v.Z);
        }
    }
}
