using System;
using RealHands.Core.Wire;

namespace RealHands.Core.Skinning
{
    /// <summary>A hand rig from a rig message, and MANO-style linear blend skinning of it:
    /// v = sum_j w_vj G_j (rest_v + offset_v - J_j) + root_translation, with G_j the chain of joint rotations
    /// (axis-angle pose, relative to the parent) about the rest joints J. Output: camera coordinates, OpenCV axes, metres.</summary>
    public sealed class HandRig
    {
        public const int JointCount = 16;
        public const int WeightsPerVertexInEngine = 4;

        public readonly Handedness Handedness;
        public readonly int Version;
        public readonly string ModelId;
        public readonly int VertexCount;
        public readonly float[] RestVertices;   // (V*3) model space
        public readonly Vec3d[] RestJoints;     // (16)
        public readonly int[] Parents;          // (16)
        public readonly float[] SkinWeights;    // (V*16)
        public readonly int[] Faces;            // (F*3)
        public readonly float[] Uv;             // (T*2)
        public readonly int[] FacesUv;          // (F*3)
        public readonly RigMessage Message;

        public HandRig(RigMessage rig)
        {
            if (rig == null) throw new ArgumentNullException("rig");
            Message = rig;
            Handedness = rig.Handedness;
            Version = rig.RigVersion;
            ModelId = rig.ModelId;
            VertexCount = rig.VertexCount;
            RestVertices = rig.RestVertices;
            Parents = rig.JointParents;
            SkinWeights = rig.SkinWeights;
            Faces = rig.Faces;
            Uv = rig.Uv;
            FacesUv = rig.FacesUv;
            RestJoints = new Vec3d[JointCount];
            for (int j = 0; j < JointCount; j++) RestJoints[j] = Vec3d.At(rig.RestJoints, j);
        }

        /// <summary>Per-joint local rotations of a 48-value axis-angle pose.</summary>
        public static Quatd[] LocalRotations(float[] pose, Quatd[] into = null)
        {
            if (pose == null || pose.Length != 3 * JointCount) throw new ArgumentException("pose must have 48 values");
            var q = into != null && into.Length == JointCount ? into : new Quatd[JointCount];
            for (int j = 0; j < JointCount; j++) q[j] = Quatd.FromAxisAngle(pose[3 * j], pose[3 * j + 1], pose[3 * j + 2]);
            return q;
        }

        /// <summary>Global joint transforms G_j (model space): rotation about the rest joint, chained from the wrist;
        /// written into <paramref name="into"/> when it has JointCount entries.</summary>
        public Affine3d[] GlobalTransforms(Quatd[] local, Affine3d[] into = null)
        {
            var g = into != null && into.Length == JointCount ? into : new Affine3d[JointCount];
            for (int j = 0; j < JointCount; j++)
            {
                int p = Parents[j];
                var offset = p < 0 ? RestJoints[j] : RestJoints[j] - RestJoints[p];
                var l = Affine3d.FromRotationTranslation(local[j], offset);
                g[j] = p < 0 ? l : g[p] * l;
            }
            return g;
        }

        /// <summary>Skinning matrices A_j = G_j * Translate(-J_j): what the bind pose maps to.</summary>
        public Affine3d[] SkinningTransforms(Quatd[] local, Affine3d[] into = null)
        {
            var g = GlobalTransforms(local, into);
            for (int j = 0; j < JointCount; j++)
            {
                var t = g[j].RotateOnly(RestJoints[j]);
                g[j].M03 -= t.X; g[j].M13 -= t.Y; g[j].M23 -= t.Z;
            }
            return g;
        }

        /// <summary>Camera-space vertices (V*3, OpenCV axes, metres) of one hand of a frame. Offsets are used when they
        /// match this rig's vertex count; <paramref name="weights"/> null means the full 16 weights per vertex.</summary>
        public float[] Skin(HandState hand, float[] result = null, TopWeights weights = null)
        {
            var local = LocalRotations(hand.Pose, _local ?? (_local = new Quatd[JointCount]));
            return Skin(local, hand.VertexOffsets, new Vec3d(hand.RootTranslation[0], hand.RootTranslation[1], hand.RootTranslation[2]), result, weights);
        }

        // per-thread scratch (Skin runs on the receive thread or the main thread): no garbage per skinned frame
        [ThreadStatic] static Quatd[] _local;
        [ThreadStatic] static Affine3d[] _transforms;

        public float[] Skin(Quatd[] local, float[] offsets, Vec3d rootTranslation, float[] result = null, TopWeights weights = null)
        {
            int V = VertexCount;
            if (result == null || result.Length != 3 * V) result = new float[3 * V];
            bool useOffsets = offsets != null && offsets.Length == 3 * V;
            var a = SkinningTransforms(local, _transforms ?? (_transforms = new Affine3d[JointCount]));
            for (int v = 0; v < V; v++)
            {
                double x = RestVertices[3 * v], y = RestVertices[3 * v + 1], z = RestVertices[3 * v + 2];
                if (useOffsets) { x += offsets[3 * v]; y += offsets[3 * v + 1]; z += offsets[3 * v + 2]; }
                var m = new Affine3d();
                if (weights == null)
                    for (int j = 0; j < JointCount; j++) Accumulate(ref m, a[j], SkinWeights[16 * v + j]);
                else
                    for (int k = 0; k < WeightsPerVertexInEngine; k++)
                        Accumulate(ref m, a[weights.Joint[4 * v + k]], weights.Weight[4 * v + k]);
                var p = m.Apply(new Vec3d(x, y, z)) + rootTranslation;
                result[3 * v] = (float)p.X; result[3 * v + 1] = (float)p.Y; result[3 * v + 2] = (float)p.Z;
            }
            return result;
        }

        static void Accumulate(ref Affine3d m, Affine3d a, double w)
        {
            if (w == 0) return;
            m.M00 += w * a.M00; m.M01 += w * a.M01; m.M02 += w * a.M02; m.M03 += w * a.M03;
            m.M10 += w * a.M10; m.M11 += w * a.M11; m.M12 += w * a.M12; m.M13 += w * a.M13;
            m.M20 += w * a.M20; m.M21 += w * a.M21; m.M22 += w * a.M22; m.M23 += w * a.M23;
        }

        /// <summary>The 4 largest weights per vertex, renormalised to sum to 1: what a game engine's skinning takes.</summary>
        public TopWeights TopFour()
        {
            var t = new TopWeights { Joint = new int[4 * VertexCount], Weight = new float[4 * VertexCount] };
            var idx = new int[JointCount];
            for (int v = 0; v < VertexCount; v++)
            {
                for (int j = 0; j < JointCount; j++) idx[j] = j;
                int row = 16 * v;
                Array.Sort(idx, (p, q) => SkinWeights[row + q].CompareTo(SkinWeights[row + p]) != 0
                                              ? SkinWeights[row + q].CompareTo(SkinWeights[row + p]) : p.CompareTo(q));
                double sum = 0;
                for (int k = 0; k < 4; k++) sum += Math.Max(0f, SkinWeights[row + idx[k]]);
                for (int k = 0; k < 4; k++)
                {
                    t.Joint[4 * v + k] = idx[k];
                    t.Weight[4 * v + k] = sum > 0 ? (float)(Math.Max(0f, SkinWeights[row + idx[k]]) / sum) : (k == 0 ? 1f : 0f);
                }
            }
            return t;
        }
    }

    /// <summary>Per vertex the 4 strongest joints and their weights (V*4 each), strongest first.</summary>
    public sealed class TopWeights
    {
        public int[] Joint;
        public float[] Weight;
    }
}
