using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using RealHands.Core.Wire;

namespace RealHands.Core.Tests
{
    [TestFixture]
    public class WireTests
    {
        static readonly string[] Kinds = { "rig", "frame", "texture", "stats" };

        [Test]
        public void EveryGoldenVectorDecodesToTheExpectedFields()
        {
            var expected = (Dictionary<string, object>)TestData.Json("golden/expected.json");
            CollectionAssert.AreEquivalent(Kinds, expected.Keys.ToArray());
            foreach (var kind in Kinds)
            {
                var exp = (Dictionary<string, object>)expected[kind];
                var frames = TestData.Frames("golden/" + kind + ".bin");
                Assert.AreEqual((double)exp["frames"], frames.Count, kind + ": frame count");
                var msg = WireDecoder.Decode(frames);
                Assert.AreEqual(kind, msg.Type);
                Assert.AreEqual(WireSpec.Major, msg.VersionMajor);
                var fields = (Dictionary<string, object>)exp["fields"];
                var actual = FieldsOf(msg);
                CollectionAssert.AreEquivalent(fields.Keys.ToArray(), actual.Keys.ToArray(), kind + ": field names");
                foreach (var kv in fields) Same(kv.Value, actual[kv.Key], kind + "." + kv.Key);
            }
            Assert.Greater((double)((Dictionary<string, object>)expected["rig"])["frames"], 2.0, "the golden rig exercises multipart blobs");
        }

        [Test]
        public void TheCSharpFieldTableIsTheSharedSpec()
        {
            var spec = (Dictionary<string, object>)TestData.Json("wire.json");
            var version = (List<object>)spec["version"];
            Assert.AreEqual(WireSpec.Major, (int)(double)version[0]);
            Assert.AreEqual(WireSpec.Minor, (int)(double)version[1]);
            var topics = (Dictionary<string, object>)((Dictionary<string, object>)spec["transport"])["topics"];
            foreach (var kv in topics) Assert.AreEqual(kv.Key, WireSpec.TypeOfTopic((string)kv.Value));
            var messages = (Dictionary<string, object>)spec["messages"];
            foreach (var kind in Kinds)
            {
                var m = (Dictionary<string, object>)messages[kind];
                Compare(kind, (Dictionary<string, object>)m["fields"], WireSpec.FieldsOf(kind));
                if (kind == "frame") Compare("hand", (Dictionary<string, object>)m["hand"], WireSpec.Hand);
            }
        }

        static void Compare(string where, Dictionary<string, object> fields, FieldSpec[] table)
        {
            CollectionAssert.AreEqual(fields.Keys.ToArray(), table.Select(f => f.Name).ToArray(), where + ": field names and order");
            foreach (var f in table)
            {
                var s = (Dictionary<string, object>)fields[f.Name];
                string type = (string)s["type"];
                var want = type == "int" ? FieldType.Int : type == "float" ? FieldType.Float : type == "str" ? FieldType.Str :
                           type == "bool" ? FieldType.Bool : type == "array" ? FieldType.Array : type == "blob" ? FieldType.Blob :
                           type == "list[str]" ? FieldType.StrList : type == "list[hand]" ? FieldType.HandList :
                           type == "map[str,float]" ? FieldType.StrFloatMap : (FieldType)(-1);
                Assert.AreEqual(want, f.Type, where + "." + f.Name + " type");
                if (f.Type == FieldType.Array)
                {
                    Assert.AreEqual((string)s["dtype"], f.Dtype, where + "." + f.Name + " dtype");
                    var shape = ((List<object>)s["shape"]).Select(d => d is double ? (int)(double)d : -1).ToArray();
                    CollectionAssert.AreEqual(shape, f.Shape, where + "." + f.Name + " shape");
                }
                object since;
                int sinceMinor = s.TryGetValue("since", out since) ? (int)(double)((List<object>)since)[1] : 0;
                Assert.AreEqual(sinceMinor, f.SinceMinor, where + "." + f.Name + " since");
                Assert.AreEqual(sinceMinor > 0, s.ContainsKey("default"), where + "." + f.Name + ": an added field has a default");
                object e;
                if (s.TryGetValue("enum", out e)) CollectionAssert.AreEqual(((List<object>)e).Cast<string>().ToArray(), f.Enum, where + "." + f.Name + " enum");
                else Assert.IsNull(f.Enum, where + "." + f.Name + " has no enum in the spec");
            }
        }

        [Test]
        public void AnOlderMinorVersionsMessagesDecodeWithTheAddedFieldsDefaults()
        {
            var frame = (FrameMessage)WireDecoder.Decode(TestData.Frames("golden/v1.0/frame.bin"));
            Assert.AreEqual(0, frame.VersionMinor);
            Assert.AreEqual(1, frame.Hands.Count);
            Assert.AreEqual(0.0, frame.Hands[0].ExtrapolatedMs);
            Assert.AreEqual(1, frame.Hands[0].Views);
            Assert.IsFalse(frame.Hands[0].PoseHeld);
            Assert.AreEqual(48, frame.Hands[0].Pose.Length);
            var stats = (StatsMessage)WireDecoder.Decode(TestData.Frames("golden/v1.0/stats.bin"));
            Assert.AreEqual(0, stats.LatencyMs.Count);
            Assert.AreEqual(2, stats.StageMs.Count);
            Assert.IsFalse(stats.Capturing);
            Assert.AreEqual(0, stats.CaptureProgress.Count);
            var current = (StatsMessage)WireDecoder.Decode(TestData.Frames("golden/stats.bin"));
            Assert.AreEqual(48.5, current.LatencyMs["p50"]);
            Assert.IsTrue(current.Capturing);
            Assert.AreEqual("palm", current.CaptureStep);
            Assert.AreEqual(0.5, current.CaptureProgress["palm"]);
        }

        [Test]
        public void ADifferentMajorVersionIsRefusedNamingBothVersions()
        {
            var frames = TestData.Frames("golden/stats.bin");
            // the header starts with a map; "v": [1, minor] is encoded as a1 76 92 01 <minor> -> make the major 2
            var h = frames[1];
            int at = IndexOf(h, new byte[] { 0xa1, (byte)'v', 0x92, 0x01 });
            Assert.GreaterOrEqual(at, 0);
            h[at + 3] = 0x02;
            var ex = Assert.Throws<WireException>(() => WireDecoder.Decode(frames));
            StringAssert.Contains("2." + WireSpec.Minor, ex.Message);
            StringAssert.Contains("1." + WireSpec.Minor, ex.Message);
        }

        [Test]
        public void ATruncatedArrayIsAClearError()
        {
            var frames = TestData.Frames("golden/rig.bin");
            frames.RemoveAt(frames.Count - 1); // the last blob frame is gone
            var ex = Assert.Throws<WireException>(() => WireDecoder.Decode(frames));
            StringAssert.Contains("truncated", ex.Message);
        }

        [Test]
        public void UnknownTopicsAndMissingFieldsAreRefused()
        {
            var ex = Assert.Throws<WireException>(() => WireDecoder.Decode(new List<byte[]> { new byte[] { 1, 2, 3 }, new byte[] { 0x80 } }));
            StringAssert.Contains("unknown topic", ex.Message);
            var stats = TestData.Frames("golden/stats.bin");
            var empty = new List<byte[]> { stats[0], new byte[] { 0x82, 0xa1, (byte)'v', 0x92, 1, 0, 0xa4, (byte)'t', (byte)'y', (byte)'p', (byte)'e', 0xa5, (byte)'s', (byte)'t', (byte)'a', (byte)'t', (byte)'s' } };
            ex = Assert.Throws<WireException>(() => WireDecoder.Decode(empty));
            StringAssert.Contains("missing field", ex.Message);
        }

        [Test]
        public void HalfFloatsConvertExactly()
        {
            Assert.AreEqual(1f, Bits.HalfToSingle(0x3c00));
            Assert.AreEqual(-2f, Bits.HalfToSingle(0xc000));
            Assert.AreEqual(65504f, Bits.HalfToSingle(0x7bff));
            Assert.AreEqual(5.9604645e-8f, Bits.HalfToSingle(0x0001), 1e-14);
            Assert.IsTrue(float.IsPositiveInfinity(Bits.HalfToSingle(0x7c00)));
            Assert.IsTrue(float.IsNaN(Bits.HalfToSingle(0x7e00)));
            Assert.AreEqual(0.0010004f, Bits.HalfToSingle(0x1419), 1e-7);
        }

        [Test]
        public void MsgPackReaderCoversTheFormats()
        {
            // {"a": [1, -1, -33, 200, 70000, 1.5(f32), 2.5(f64), nil, true, "x", bin(2)], "b": 2^63}
            var buf = new byte[]
            {
                0x82, 0xa1, (byte)'a', 0x9b, 0x01, 0xff, 0xd0, 0xdf, 0xcc, 0xc8, 0xce, 0x00, 0x01, 0x11, 0x70,
                0xca, 0x3f, 0xc0, 0x00, 0x00, 0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0, 0xc0, 0xc3, 0xa1, (byte)'x', 0xc4, 0x02, 9, 8,
                0xa1, (byte)'b', 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0,
            };
            var v = MsgPackReader.Parse(buf);
            var a = v.Get("a").Array;
            Assert.AreEqual(1, a[0].Int); Assert.AreEqual(-1, a[1].Int); Assert.AreEqual(-33, a[2].Int);
            Assert.AreEqual(200, a[3].Int); Assert.AreEqual(70000, a[4].Int);
            Assert.AreEqual(1.5, a[5].Float); Assert.AreEqual(2.5, a[6].Float);
            Assert.AreEqual(MsgKind.Nil, a[7].Kind); Assert.IsTrue(a[8].Bool); Assert.AreEqual("x", a[9].Str);
            Assert.AreEqual(2, a[10].Bin.Count); Assert.AreEqual(9, a[10].Bin.Array[a[10].Bin.Offset]);
            Assert.AreEqual(MsgKind.UInt, v.Get("b").Kind); Assert.AreEqual(1UL << 63, v.Get("b").UInt);
            for (int n = 0; n < buf.Length; n++)
                Assert.Throws<MsgPackException>(() => MsgPackReader.Parse(buf, 0, n), "truncated at " + n);
        }

        [Test]
        public void HostileLengthsNeitherAllocateNorRecurseWithoutBound()
        {
            // an array claiming 2^32-1 elements in 5 bytes, a bin claiming 4 GB, 100 nested arrays
            Assert.Throws<MsgPackException>(() => MsgPackReader.Parse(new byte[] { 0xdd, 0xff, 0xff, 0xff, 0xff }));
            Assert.Throws<MsgPackException>(() => MsgPackReader.Parse(new byte[] { 0xc6, 0xff, 0xff, 0xff, 0xff, 0 }));
            var deep = Enumerable.Repeat((byte)0x91, 100).Concat(new byte[] { 0x01 }).ToArray();
            var ex = Assert.Throws<MsgPackException>(() => MsgPackReader.Parse(deep));
            StringAssert.Contains("nesting", ex.Message);
        }

        // --- helpers: typed message -> field dictionary, and comparison with expected.json ---

        static Dictionary<string, object> FieldsOf(WireMessage m)
        {
            var d = new Dictionary<string, object>();
            var rig = m as RigMessage;
            if (rig != null)
            {
                d["handedness"] = Side(rig.Handedness); d["model_id"] = rig.ModelId; d["rig_version"] = rig.RigVersion;
                d["vertex_count"] = rig.VertexCount; d["faces"] = rig.Faces; d["uv"] = rig.Uv; d["faces_uv"] = rig.FacesUv;
                d["rest_vertices"] = rig.RestVertices; d["rest_joints"] = rig.RestJoints; d["joint_parents"] = rig.JointParents;
                d["joint_names"] = rig.JointNames.Cast<object>().ToList(); d["skin_weights"] = rig.SkinWeights; d["shape"] = rig.Shape;
                d["units"] = rig.Units; d["model_axes"] = rig.ModelAxes; d["camera_axes"] = rig.CameraAxes;
            }
            var f = m as FrameMessage;
            if (f != null)
            {
                d["seq"] = f.Seq; d["source_frame"] = f.SourceFrame; d["capture_ns"] = f.CaptureNs; d["publish_ns"] = f.PublishNs;
                d["hands"] = f.Hands.Select(h => (object)new Dictionary<string, object>
                {
                    { "handedness", Side(h.Handedness) }, { "confidence", h.Confidence }, { "tracking", h.Tracking.ToString().ToLowerInvariant() },
                    { "rig_version", h.RigVersion }, { "pose", h.Pose }, { "shape", h.Shape }, { "root_translation", h.RootTranslation },
                    { "joints", h.Joints }, { "vertex_offsets", h.VertexOffsets }, { "texture_version", h.TextureVersion }, { "refined", h.Refined },
                    { "extrapolated_ms", h.ExtrapolatedMs }, { "views", h.Views }, { "pose_held", h.PoseHeld },
                }).ToList();
            }
            var t = m as TextureMessage;
            if (t != null)
            {
                d["handedness"] = Side(t.Handedness); d["version"] = t.Version; d["format"] = t.Format; d["width"] = t.Width;
                d["height"] = t.Height; d["data"] = t.Data;
            }
            var s = m as StatsMessage;
            if (s != null)
            {
                d["publish_ns"] = s.PublishNs; d["uptime_s"] = s.UptimeS; d["frames"] = s.Frames; d["dropped"] = s.Dropped;
                d["fps"] = s.Fps; d["stage_ms"] = s.StageMs.ToDictionary(kv => kv.Key, kv => (object)kv.Value); d["source"] = s.Source;
                d["latency_ms"] = s.LatencyMs.ToDictionary(kv => kv.Key, kv => (object)kv.Value);
                d["capture_step"] = s.CaptureStep; d["capture_instruction"] = s.CaptureInstruction;
                d["capture_progress"] = s.CaptureProgress.ToDictionary(kv => kv.Key, kv => (object)kv.Value);
            }
            return d;
        }

        static string Side(Handedness h) { return h == Handedness.Left ? "left" : "right"; }

        static void Same(object expected, object actual, string where)
        {
            var ed = expected as Dictionary<string, object>;
            if (ed != null && ed.ContainsKey("hex"))
            {
                Assert.AreEqual((string)ed["hex"], BitConverter.ToString((byte[])actual).Replace("-", "").ToLowerInvariant(), where);
                return;
            }
            if (ed != null && ed.ContainsKey("values"))
            {
                var values = ((List<object>)ed["values"]).Select(v => (double)v).ToArray();
                var got = actual is float[] ? ((float[])actual).Select(v => (double)v).ToArray() : ((int[])actual).Select(v => (double)v).ToArray();
                Assert.AreEqual(values.Length, got.Length, where + " length");
                for (int i = 0; i < values.Length; i++) Assert.AreEqual(values[i], got[i], 1e-7 * Math.Max(1, Math.Abs(values[i])), where + "[" + i + "]");
                return;
            }
            if (ed != null)
            {
                var ad = (Dictionary<string, object>)actual;
                CollectionAssert.AreEquivalent(ed.Keys.ToArray(), ad.Keys.ToArray(), where + " keys");
                foreach (var kv in ed) Same(kv.Value, ad[kv.Key], where + "." + kv.Key);
                return;
            }
            var el = expected as List<object>;
            if (el != null)
            {
                var al = (List<object>)actual;
                Assert.AreEqual(el.Count, al.Count, where + " length");
                for (int i = 0; i < el.Count; i++) Same(el[i], al[i], where + "[" + i + "]");
                return;
            }
            if (expected is double)
            {
                double a = Convert.ToDouble(actual);
                Assert.AreEqual((double)expected, a, Math.Abs((double)expected) * 1e-12, where);
                return;
            }
            Assert.AreEqual(expected, actual, where);
        }

        static int IndexOf(byte[] hay, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= hay.Length; i++)
            {
                int k = 0;
                while (k < needle.Length && hay[i + k] == needle[k]) k++;
                if (k == needle.Length) return i;
            }
            return -1;
        }
    }
}
