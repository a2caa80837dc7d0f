namespace RealHands.Core.Skinning
{
    /// <summary>From the wire's OpenCV camera axes (right-handed: x right, y down, z forward) to Unity's (left-handed:
    /// x right, y up, z forward). A mirror of y: positions flip y, rotations keep their angle about the mirrored axis
    /// (quaternion x and z negate), and triangles reverse their winding so that outward faces stay front faces.</summary>
    public static class Conventions
    {
        public static Vec3d OpenCvToUnity(Vec3d p) { return new Vec3d(p.X, -p.Y, p.Z); }

        public static Quatd OpenCvToUnity(Quatd q) { return new Quatd(-q.X, q.Y, -q.Z, q.W); }

        /// <summary>Positions (N*3) converted in place.</summary>
        public static void OpenCvToUnityInPlace(float[] xyz)
        {
            for (int i = 1; i < xyz.Length; i += 3) xyz[i] = -xyz[i];
        }

        /// <summary>Triangles (F*3) with corners 1 and 2 swapped: counter-clockwise-outside in a right-handed frame
        /// becomes clockwise-outside after the mirror, Unity's front-face rule.</summary>
        public static int[] ReverseWinding(int[] faces)
        {
            var r = (int[])faces.Clone();
            for (int f = 0; f + 2 < r.Length; f += 3) { int t = r[f + 1]; r[f + 1] = r[f + 2]; r[f + 2] = t; }
            return r;
        }
    }
}
