using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using NUnit.Framework;
using RealHands.Core.Skinning;
using RealHands.Core.Tracking;
using RealHands.Core.Transport;
using RealHands.Core.Wire;

namespace RealHands.Core.Tests
{
    /// <summary>No garbage per frame: frames decoded into pooled messages, hands copied into the interpolator's own
    /// samples, the socket's buffers reused; and none of it changes what is decoded or shown.</summary>
    [TestFixture]
    public class PoolingTests
    {
        static MsgValue SkinningCase(int i) { return MsgPackReader.Parse(TestData.Bytes("golden/skinning.msgpack")).Get("cases").Array[i]; }

        static List<byte[]> SkinningFrame(int c, int f)
        {
            return SkinningCase(c).Get("frames").Array[f].Array.Select(b => b.Bin.ToArray()).ToList();
        }

        /// <summary>A frame message whose hands list is rebuilt from <paramref name="hands"/> (indices into the
        /// message's own hands; the second copy of a hand becomes a left one): 0, 1 or 2 hands.</summary>
        static List<byte[]> WithHands(List<byte[]> message, params int[] hands)
        {
            var header = MsgPackReader.Parse(message[1]);
            var original = header.Map["hands"].Array;
            var list = new List<MsgValue>();
            for (int i = 0; i < hands.Length; i++)
            {
                var h = Clone(original[hands[i]]);
                if (i == 1) h.Map["handedness"] = new MsgValue { Kind = MsgKind.Str, Str = "left" };
                list.Add(h);
            }
            header.Map["hands"] = new MsgValue { Kind = MsgKind.Array, Array = list };
            return new List<byte[]> { message[0], MiniPack.Encode(header) }.Concat(message.Skip(2)).ToList();
        }

        static MsgValue Clone(MsgValue v)
        {
            var c = new MsgValue { Kind = v.Kind, Bool = v.Bool, Int = v.Int, UInt = v.UInt, Float = v.Float, Str = v.Str, Bin = v.Bin };
            if (v.Kind == MsgKind.Array) c.Array = v.Array.Select(Clone).ToList();
            if (v.Kind == MsgKind.Map) c.Map = v.Map.ToDictionary(kv => kv.Key, kv => Clone(kv.Value));
            return c;
        }

        static void SameFrame(FrameMessage want, FrameMessage got, string where)
        {
            Assert.AreEqual(want.Seq, got.Seq, where + ": seq");
            Assert.AreEqual(want.CaptureNs, got.CaptureNs, where + ": capture_ns");
            Assert.AreEqual(want.PublishNs, got.PublishNs, where + ": publish_ns");
            Assert.AreEqual(want.Hands.Count, got.Hands.Count, where + ": hands");
            for (int i = 0; i < want.Hands.Count; i++)
            {
                HandState a = want.Hands[i], b = got.Hands[i];
                string at = where + ": hand " + i;
                Assert.AreEqual(a.Handedness, b.Handedness, at);
                Assert.AreEqual(a.Confidence, b.Confidence, at);
                Assert.AreEqual(a.Tracking, b.Tracking, at);
                Assert.AreEqual(a.RigVersion, b.RigVersion, at);
                Assert.AreEqual(a.TextureVersion, b.TextureVersion, at);
                Assert.AreEqual(a.Refined, b.Refined, at);
                Assert.AreEqual(a.ExtrapolatedMs, b.ExtrapolatedMs, at);
                Assert.AreEqual(a.Views, b.Views, at);
                Assert.AreEqual(a.PoseHeld, b.PoseHeld, at);
                CollectionAssert.AreEqual(a.Pose, b.Pose, at + " pose");
                CollectionAssert.AreEqual(a.Shape, b.Shape, at + " shape");
                CollectionAssert.AreEqual(a.RootTranslation, b.RootTranslation, at + " root");
                CollectionAssert.AreEqual(a.Joints, b.Joints, at + " joints");
                CollectionAssert.AreEqual(a.VertexOffsets, b.VertexOffsets, at + " offsets");
            }
        }

        [Test]
        public void AFrameDecodedIntoAReusedMessageIsTheFreshDecode()
        {
            var right = SkinningFrame(0, 1);
            var stream = new List<List<byte[]>>
            {
                right, WithHands(right, 0, 0), TestData.Frames("golden/frame.bin"), WithHands(right), SkinningFrame(1, 2),
                WithHands(right, 0, 0), right,
            };
            var reused = new FrameMessage();
            for (int i = 0; i < stream.Count; i++)
            {
                var fresh = (FrameMessage)WireDecoder.Decode(stream[i]);
                Assert.AreSame(reused, WireDecoder.Decode(stream[i], reused), "decoded into the message given");
                SameFrame(fresh, reused, "message " + i);
                // a malformed message in between leaves the reused one to be decoded into again
                var broken = stream[i].Select(f => (byte[])f.Clone()).ToList();
                broken[1] = broken[1].Take(broken[1].Length / 2).ToArray();
                WireMessage m; string error;
                Assert.IsFalse(WireDecoder.TryDecode(broken, reused, out m, out error));
                StringAssert.Contains("truncated", error);
            }
            Assert.AreEqual(2, ((FrameMessage)WireDecoder.Decode(stream[1])).Hands.Count, "the two-hand message has two hands");
            Assert.AreEqual(0, ((FrameMessage)WireDecoder.Decode(stream[3])).Hands.Count, "and the empty one none");

            // a stream of same-shaped frames writes into the same arrays
            WireDecoder.Decode(right, reused);
            var h = reused.Hands[0];
            float[] pose = h.Pose, offsets = h.VertexOffsets;
            WireDecoder.Decode(SkinningFrame(0, 2), reused);
            Assert.AreSame(h, reused.Hands[0]);
            Assert.AreSame(pose, reused.Hands[0].Pose);
            Assert.AreSame(offsets, reused.Hands[0].VertexOffsets);
            SameFrame((FrameMessage)WireDecoder.Decode(SkinningFrame(0, 2)), reused, "same-shaped frame");
        }

        [Test]
        public void TheEnginesPathPerFrameMakesNoGarbage()
        {
            var c = SkinningCase(0);
            var rig = new HandRig((RigMessage)WireDecoder.Decode(c.Get("rig").Array.Select(b => b.Bin.ToArray()).ToList()));
            var top = rig.TopFour();
            var frames = Enumerable.Range(0, 4).Select(i => SkinningFrame(0, i)).ToList();
            var sub = new ZmtpSubscriber { ReuseBuffers = true };
            sub.Attach(new ReplayPeer(frames));
            var client = new HandStreamClient("tcp://127.0.0.1:1");   // never started: Handle() is the receive path
            var taken = new List<FrameMessage>();
            var interpolator = new PoseInterpolator();
            float[] skinned = null;
            int n = 0;
            Action step = () =>
            {
                client.Handle(sub.ReceiveMessage());
                client.TakeFrames(taken);
                foreach (var f in taken)
                {
                    n++;
                    interpolator.Add(n / 30.0, 1 + n / 30.0, f.Hands[0]);
                }
                client.ReturnFrames(taken);
                var shown = interpolator.Sample(1 + (n - 1.2) / 30.0);
                skinned = rig.Skin(shown.Local, shown.Offsets, shown.Root, skinned, top);
            };
            for (int i = 0; i < 40; i++) step();   // warm-up: pools filled, buffers sized, code compiled
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 60; i++) step();
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.AreEqual(0, bytes, "bytes allocated over 60 frames: receive, decode, interpolate, skin");
            Assert.AreEqual(100, client.Stats.Frames);
            Assert.AreEqual(0, client.Stats.DecodeErrors);
        }

        [Test]
        public void TheClientDecodesIntoFramesHandedBack()
        {
            var right = SkinningFrame(0, 1);
            var client = new HandStreamClient("tcp://127.0.0.1:1") { FrameQueueCapacity = 2 };
            var taken = new List<FrameMessage>();
            client.Handle(right);
            client.TakeFrames(taken);
            var first = taken[0];
            Assert.AreEqual(0, client.PooledFrames);
            client.ReturnFrames(taken);
            Assert.AreEqual(0, taken.Count, "the list is cleared");
            Assert.AreEqual(1, client.PooledFrames);
            client.ReturnFrames(new List<FrameMessage> { first });
            Assert.AreEqual(1, client.PooledFrames, "a frame handed back twice is pooled once");

            var two = WithHands(right, 0, 0);
            client.Handle(two);
            Assert.AreEqual(0, client.PooledFrames);
            client.TakeFrames(taken);
            Assert.AreSame(first, taken[0], "the next frame was decoded into the one handed back");
            SameFrame((FrameMessage)WireDecoder.Decode(two), taken[0], "pooled frame");
            client.ReturnFrames(taken);

            var broken = right.Select(f => (byte[])f.Clone()).ToList();
            broken[1] = broken[1].Take(10).ToArray();
            client.Handle(broken);
            Assert.AreEqual(1, client.PooledFrames, "a malformed message hands its pooled frame back");
            client.Handle(TestData.Frames("golden/stats.bin"));
            Assert.AreEqual(1, client.PooledFrames, "so does a message of another type");
            // five frames through a queue of two: each frame pushed out goes back to the pool and is decoded into next
            for (int i = 0; i < 5; i++) client.Handle(right);
            Assert.AreEqual(3, client.Stats.Superseded);
            Assert.AreEqual(1, client.PooledFrames, "the last one pushed out waits in the pool");
            Assert.AreEqual(2, client.TakeFrames(taken));
            CollectionAssert.Contains(taken, first, "the frame handed back first served again (three objects for five messages)");
        }

        [Test]
        public void TheInterpolatorKeepsCopiesAndReusesItsSamples()
        {
            var hand = ((FrameMessage)WireDecoder.Decode(SkinningFrame(0, 1))).Hands[0];
            var ip = new PoseInterpolator { Capacity = 4 };
            Assert.IsTrue(ip.Add(0.0, 1.0, hand));
            var shown = ip.Sample(double.PositiveInfinity);
            float offset0 = shown.Offsets[0], joint0 = shown.Joints[0];
            hand.VertexOffsets[0] += 1; hand.Joints[0] += 1; hand.RootTranslation[0] += 1;   // the frame is reused
            Assert.AreEqual(offset0, ip.Sample(double.PositiveInfinity).Offsets[0], "the sample holds a copy");
            Assert.AreEqual(joint0, ip.Sample(double.PositiveInfinity).Joints[0]);
            Assert.AreNotSame(hand.VertexOffsets, shown.Offsets);
            Assert.IsFalse(ip.Add(0.0, 1.1, hand), "a repeated capture is ignored");

            var seen = new HashSet<PoseSample>();
            long stamp = shown.OffsetsStamp;
            for (int i = 1; i <= 40; i++)
            {
                Assert.IsTrue(ip.Add(i / 30.0, 1 + i / 30.0, hand));
                var s = ip.Sample(double.PositiveInfinity);
                seen.Add(s);
                Assert.AreNotEqual(stamp, s.OffsetsStamp, "a reused sample gets a new stamp: renderers re-upload");
                stamp = s.OffsetsStamp;
            }
            Assert.LessOrEqual(seen.Count, ip.Capacity + 1, "samples are reused once dropped");
            ip.Clear();
            Assert.IsNull(ip.Sample(0));
        }

        [Test]
        public void TheSocketReusesBuffersOnlyWhenAskedAndSizesMatch()
        {
            var a = SkinningFrame(0, 1);
            var b = TestData.Frames("golden/frame.bin");   // another header and offsets size
            foreach (bool reuse in new[] { false, true })
            {
                var sub = new ZmtpSubscriber { ReuseBuffers = reuse };
                sub.Attach(new ReplayPeer(new List<List<byte[]>> { a, a, b, a }));
                var arrays = new List<byte[]>();
                for (int i = 0; i < 4; i++)
                {
                    var m = sub.ReceiveMessage();
                    var want = i == 2 ? b : a;
                    Assert.AreEqual(want.Count, m.Count);
                    for (int f = 0; f < m.Count; f++) CollectionAssert.AreEqual(want[f], m[f], "message " + i + " frame " + f);
                    arrays.Add(m[1]);
                }
                if (reuse)
                {
                    Assert.AreSame(arrays[0], arrays[1], "same size at the same position: the buffer is reused");
                    Assert.AreNotSame(arrays[1], arrays[2], "another size: a new buffer");
                }
                else Assert.AreEqual(4, arrays.Distinct().Count(), "without ReuseBuffers every message is its own");
            }
        }

        [Test]
        public void ParsingWithAnArenaGivesTheSameValuesAndBoundsItsStrings()
        {
            // a map with many distinct keys, parsed again and again into one arena
            var map = new MsgValue { Kind = MsgKind.Map, Map = new Dictionary<string, MsgValue>() };
            for (int i = 0; i < 3 * MsgArena.MaxInterned; i++)
                map.Map["key" + i] = new MsgValue { Kind = MsgKind.Str, Str = i % 2 == 0 ? "right" : "é" + i };
            var bytes = MiniPack.Encode(map);
            var arena = new MsgArena();
            for (int round = 0; round < 3; round++)
            {
                var v = MsgPackReader.Parse(bytes, 0, bytes.Length, arena);
                Assert.AreEqual(map.Map.Count, v.Map.Count);
                foreach (var kv in map.Map) Assert.AreEqual(kv.Value.Str, v.Map[kv.Key].Str, kv.Key);
                Assert.AreEqual(map.Map.Count * 2 + 1, arena.InUse);
            }
        }

        /// <summary>A msgpack writer for the values the reader makes (tests only).</summary>
        static class MiniPack
        {
            public static byte[] Encode(MsgValue v)
            {
                var o = new List<byte>();
                Write(v, o);
                return o.ToArray();
            }

            static void BigEndian(List<byte> o, ulong x, int n) { for (int i = n - 1; i >= 0; i--) o.Add((byte)(x >> (8 * i))); }

            static void Str(string s, List<byte> o)
            {
                var b = Encoding.UTF8.GetBytes(s);
                if (b.Length < 32) o.Add((byte)(0xa0 | b.Length));
                else { o.Add(0xdb); BigEndian(o, (ulong)b.Length, 4); }
                o.AddRange(b);
            }

            static void Write(MsgValue v, List<byte> o)
            {
                switch (v.Kind)
                {
                    case MsgKind.Nil: o.Add(0xc0); break;
                    case MsgKind.Bool: o.Add(v.Bool ? (byte)0xc3 : (byte)0xc2); break;
                    case MsgKind.Int: o.Add(0xd3); BigEndian(o, (ulong)v.Int, 8); break;
                    case MsgKind.UInt: o.Add(0xcf); BigEndian(o, v.UInt, 8); break;
                    case MsgKind.Float: o.Add(0xcb); BigEndian(o, (ulong)BitConverter.DoubleToInt64Bits(v.Float), 8); break;
                    case MsgKind.Str: Str(v.Str, o); break;
                    case MsgKind.Bin: o.Add(0xc6); BigEndian(o, (ulong)v.Bin.Count, 4); o.AddRange(v.Bin.ToArray()); break;
                    case MsgKind.Array: o.Add(0xdd); BigEndian(o, (ulong)v.Array.Count, 4); foreach (var e in v.Array) Write(e, o); break;
                    case MsgKind.Map:
                        o.Add(0xdf); BigEndian(o, (ulong)v.Map.Count, 4);
                        foreach (var kv in v.Map) { Str(kv.Key, o); Write(kv.Value, o); }
                        break;
                    default: throw new ArgumentException("cannot write " + v.Kind);
                }
            }
        }
    }
}
