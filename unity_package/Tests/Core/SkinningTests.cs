using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using RealHands.Core.Skinning;
using RealHands.Core.Tracking;
using RealHands.Core.Wire;

namespace RealHands.Core.Tests
{
    /// <summary>The C# skinning against the Python hand model (shared_schema/golden/skinning.msgpack).</summary>
    [TestFixture]
    public class SkinningTests
    {
        sealed class Case
        {
            public HandRig Rig;
            public List<HandState> Hands = new List<HandState>();
            public List<float[]> Vertices = new List<float[]>();
            public List<float[]> Joints21 = new List<float[]>();
        }

        static List<Case> _cases;

        static List<Case> Cases()
        {
            if (_cases != null) return _cases;
            var root = MsgPackReader.Parse(TestData.Bytes("golden/skinning.msgpack"));
            var list = new List<Case>();
            foreach (var c in root.Get("cases").Array)
            {
                var k = new Case { Rig = new HandRig((RigMessage)WireDecoder.Decode(Frames(c.Get("rig")))) };
                foreach (var f in c.Get("frames").Array) k.Hands.Add(((FrameMessage)WireDecoder.Decode(Frames(f))).Hands[0]);
                foreach (var v in c.Get("vertices").Array) k.Vertices.Add(Floats(v));
                foreach (var v in c.Get("joints21").Array) k.Joints21.Add(Floats(v));
                list.Add(k);
            }
            return _cases = list;
        }

        static List<byte[]> Frames(MsgValue v) { return v.Array.Select(b => b.Bin.ToArray()).ToList(); }

        static float[] Floats(MsgValue a)
        {
            var shape = a.Get("shape").Array.Select(d => (int)d.Int).ToArray();
            return new WireArray(a.Get("dtype").Str, shape, a.Get("data").Bin).ToFloats();
        }

        static double MaxError(float[] a, float[] b)
        {
            double m = 0;
            for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
            return m;
        }

        [Test]
        public void SkinningMatchesThePythonModelWithinATenthOfAMillimetre()
        {
            var cases = Cases();
            Assert.AreEqual(2, cases.Count);
            CollectionAssert.AreEquivalent(new[] { Handedness.Right, Handedness.Left }, cases.Select(c => c.Rig.Handedness).ToArray());
            double worst = 0;
            int n = 0;
            foreach (var c in cases)
                for (int i = 0; i < c.Hands.Count; i++)
                {
                    Assert.AreEqual(c.Rig.Version, c.Hands[i].RigVersion);
                    var v = c.Rig.Skin(c.Hands[i]);
                    double e = MaxError(v, c.Vertices[i]);
                    Assert.Less(e, 1e-4, c.Rig.Handedness + " frame " + i + ": " + (e * 1000).ToString("F4") + " mm");
                    worst = Math.Max(worst, e);
                    n++;
                }
            Assert.GreaterOrEqual(n, 8);
            Console.WriteLine("skinning: worst vertex error {0:F5} mm over {1} hands", worst * 1000, n);
        }

        [Test]
        public void OffsetsMatterSoTheTestCanFail()
        {
            // without the frame's vertex offsets (pose correctives, refinement) the mesh is measurably off
            var c = Cases()[0];
            var h = c.Hands[1];
            var v = c.Rig.Skin(HandRig.LocalRotations(h.Pose), null, new Vec3d(h.RootTranslation[0], h.RootTranslation[1], h.RootTranslation[2]));
            Assert.Greater(MaxError(v, c.Vertices[1]), 1e-3);
        }

        [Test]
        public void TopFourWeightsStayCloseToFullSkinning()
        {
            foreach (var c in Cases())
            {
                var top = c.Rig.TopFour();
                for (int v = 0; v < c.Rig.VertexCount; v++)
                {
                    float s = top.Weight[4 * v] + top.Weight[4 * v + 1] + top.Weight[4 * v + 2] + top.Weight[4 * v + 3];
                    Assert.AreEqual(1f, s, 1e-5);
                    Assert.GreaterOrEqual(top.Weight[4 * v], top.Weight[4 * v + 1]);
                }
                double worst = 0;
                for (int i = 0; i < c.Hands.Count; i++) worst = Math.Max(worst, MaxError(c.Rig.Skin(c.Hands[i], null, top), c.Vertices[i]));
                Console.WriteLine("{0} hand, 4 weights per vertex: worst vertex error {1:F3} mm", c.Rig.Handedness, worst * 1000);
                Assert.Less(worst, 5e-3, "a game engine's 4-bone skinning stays within 5 mm of the model");
            }
        }

        [Test]
        public void RenderMeshSplitsUvSeamsAndKeepsFacesOutwardInUnityAxes()
        {
            foreach (var c in Cases())
            {
                var mesh = RenderMesh.Build(c.Rig);
                Assert.GreaterOrEqual(mesh.Count, c.Rig.VertexCount);
                Assert.AreEqual(c.Rig.Faces.Length, mesh.Triangles.Length);
                var rest = mesh.Gather(c.Rig.RestVertices);
                Conventions.OpenCvToUnityInPlace(rest);
                // Unity draws faces that are clockwise seen from the camera; the plain cross product (b-a)x(c-a) of such a
                // face points at the viewer (what Mesh.RecalculateNormals gives). Outward faces therefore give a positive
                // signed volume sum a.(b x c)/6; the mirrored mesh with its original winding would give a negative one.
                double vol = 0;
                for (int t = 0; t < mesh.Triangles.Length; t += 3)
                {
                    var a = Vec3d.At(rest, mesh.Triangles[t]); var b = Vec3d.At(rest, mesh.Triangles[t + 1]); var d = Vec3d.At(rest, mesh.Triangles[t + 2]);
                    vol += Vec3d.Dot(a, Vec3d.Cross(b, d)) / 6.0;
                }
                Assert.Greater(vol, 5e-5, "outward front faces, and a hand of more than 50 cm^3");
            }
        }

        [Test]
        public void RotationsConvertConsistentlyWithPositions()
        {
            var rng = new Random(5);
            for (int i = 0; i < 100; i++)
            {
                var q = Quatd.FromAxisAngle(rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2);
                var p = new Vec3d(rng.NextDouble() - 0.5, rng.NextDouble() - 0.5, rng.NextDouble() - 0.5);
                var a = Conventions.OpenCvToUnity(q.Rotate(p));
                var b = Conventions.OpenCvToUnity(q).Rotate(Conventions.OpenCvToUnity(p));
                Assert.Less((a - b).Length, 1e-12);
            }
        }

        [Test]
        public void SkinningTransformsAgreeWithAQuaternionBoneHierarchy()
        {
            // What the Unity layer does with Transforms: bone j at rest J_j, local rotation q_j; bind pose Translate(-J_j)
            var c = Cases()[1];
            var h = c.Hands[0];
            var local = HandRig.LocalRotations(h.Pose);
            var a = c.Rig.SkinningTransforms(local);
            var worldRot = new Quatd[16];
            var worldPos = new Vec3d[16];
            for (int j = 0; j < 16; j++)
            {
                int p = c.Rig.Parents[j];
                if (p < 0) { worldRot[j] = local[j]; worldPos[j] = c.Rig.RestJoints[j]; continue; }
                worldRot[j] = worldRot[p] * local[j];
                worldPos[j] = worldPos[p] + worldRot[p].Rotate(c.Rig.RestJoints[j] - c.Rig.RestJoints[p]);
            }
            var x = new Vec3d(0.01, -0.02, 0.03);
            for (int j = 0; j < 16; j++)
            {
                var viaBones = worldPos[j] + worldRot[j].Rotate(x - c.Rig.RestJoints[j]);
                Assert.Less((a[j].Apply(x) - viaBones).Length, 1e-12);
            }
        }

        [Test]
        public void XrJointsFollowTheHandsOrientation()
        {
            foreach (var c in Cases())
                for (int i = 0; i < c.Hands.Count; i++)
                {
                    var pos = new Vec3d[XrHandJoints.Count];
                    var rot = new Quatd[XrHandJoints.Count];
                    var radii = new double[XrHandJoints.Count];
                    XrHandJoints.Compute(c.Joints21[i], c.Rig.Handedness, pos, rot, radii);
                    // the wrist's up is the back of the hand: model +z rotated by the global orientation, in Unity axes
                    var wrist = Quatd.FromAxisAngle(c.Hands[i].Pose[0], c.Hands[i].Pose[1], c.Hands[i].Pose[2]);
                    var dorsal = Conventions.OpenCvToUnity(wrist.Rotate(new Vec3d(0, 0, 1)));
                    var distal = Conventions.OpenCvToUnity(wrist.Rotate(new Vec3d(1, 0, 0)));
                    var up = rot[0].Rotate(new Vec3d(0, 1, 0));
                    var fwd = rot[0].Rotate(new Vec3d(0, 0, 1));
                    Assert.Greater(Vec3d.Dot(up, dorsal), Math.Cos(35 * Math.PI / 180), c.Rig.Handedness + " " + i + ": wrist up is dorsal");
                    Assert.Greater(Vec3d.Dot(fwd, distal), Math.Cos(35 * Math.PI / 180), c.Rig.Handedness + " " + i + ": wrist forward is distal");
                    // index tip sits at the keypoint
                    Assert.Less((pos[10] - Conventions.OpenCvToUnity(Vec3d.At(c.Joints21[i], 8))).Length, 1e-6);
                    // each proximal finger bone, against the hand model's own kinematic chain (the pose on the wire, not
                    // the keypoints the joints were built from): forward along the posed phalanx, up out of its back
                    var G = c.Rig.GlobalTransforms(HandRig.LocalRotations(c.Hands[i].Pose));
                    foreach (var bone in new[] { new[] { 7, 1, 2 }, new[] { 12, 4, 5 }, new[] { 17, 10, 11 }, new[] { 22, 7, 8 } })
                    {
                        int xr = bone[0], joint = bone[1], child = bone[2];
                        var phalanx = Conventions.OpenCvToUnity(G[child].Translation - G[joint].Translation).Normalized;
                        var back = Conventions.OpenCvToUnity(G[joint].RotateOnly(new Vec3d(0, 0, 1)));
                        string what = c.Rig.Handedness + " " + i + " " + XrHandJoints.Names[xr];
                        Assert.Greater(Vec3d.Dot(rot[xr].Rotate(new Vec3d(0, 0, 1)), phalanx), 0.999, what + " forward");
                        Assert.Greater(Vec3d.Dot(rot[xr].Rotate(new Vec3d(0, 1, 0)), back), Math.Cos(40 * Math.PI / 180), what + " up");
                    }
                    Assert.That(radii.All(r => r > 0.002 && r < 0.04));
                }
        }
    }
}
