using System;
using RealHands.Core.Skinning;

namespace RealHands.Core.Tracking
{
    /// <summary>Swing-twist decomposition of rotations, for retargeting onto skeletons whose bones roll about their own
    /// axis (a forearm takes part of the wrist's roll, or the skin at the wrist twists like a candy wrapper).
    /// <c>q = swing * twist</c>: <c>twist</c> turns about the given axis, <c>swing</c> about an axis perpendicular to
    /// it.</summary>
    public static class SwingTwist
    {
        /// <summary>Split <paramref name="q"/> into a swing and a twist about <paramref name="axis"/> (any length).
        /// A half-turn swing, which leaves the twist undefined, gives the identity twist.</summary>
        public static void Decompose(Quatd q, Vec3d axis, out Quatd swing, out Quatd twist)
        {
            var a = axis.Normalized;
            var p = a * Vec3d.Dot(new Vec3d(q.X, q.Y, q.Z), a);
            var t = new Quatd(p.X, p.Y, p.Z, q.W);
            double n = Math.Sqrt(t.X * t.X + t.Y * t.Y + t.Z * t.Z + t.W * t.W);
            twist = n < 1e-12 ? Quatd.Identity : new Quatd(t.X / n, t.Y / n, t.Z / n, t.W / n);
            swing = q * twist.Conjugate;
        }

        /// <summary>The signed angle (radians, in [-pi, pi]) that <paramref name="q"/> turns about
        /// <paramref name="axis"/> (right-hand rule).</summary>
        public static double TwistAngle(Quatd q, Vec3d axis)
        {
            Quatd swing, twist;
            Decompose(q, axis, out swing, out twist);
            double s = Vec3d.Dot(new Vec3d(twist.X, twist.Y, twist.Z), axis.Normalized);
            double angle = 2.0 * Math.Atan2(s, twist.W);
            if (angle > Math.PI) angle -= 2.0 * Math.PI;
            if (angle < -Math.PI) angle += 2.0 * Math.PI;
            return angle;
        }

        /// <summary>The rotation about <paramref name="axis"/> by <paramref name="share"/> of
        /// <paramref name="q"/>'s twist about it: what a bone that takes that share of the roll turns by.</summary>
        public static Quatd TwistShare(Quatd q, Vec3d axis, double share)
        {
            var a = axis.Normalized * (TwistAngle(q, axis) * share);
            return Quatd.FromAxisAngle(a.X, a.Y, a.Z);
        }
    }
}
