// Benchmark of the Unity package's C# core on this machine's mono: decode and skinning per hand-frame, time and
// bytes allocated per call in steady state (after warm-up; GC.GetAllocatedBytesForCurrentThread): garbage per frame
// is a frame-time spike later, when the collector runs.
//   mono RealHandsBench.exe SHARED_SCHEMA_DIR   (tools/unity/bench.py builds and runs it, and prints the table)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using RealHands.Core.Skinning;
using RealHands.Core.Tracking;
using RealHands.Core.Wire;

static class RealHandsBench
{
    static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

    static double Time(Action a, int reps, List<double> into)
    {
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            a();
            into.Add(sw.Elapsed.TotalMilliseconds);
        }
        return Median(into);
    }

    static int Main(string[] args)
    {
        var root = MsgPackReader.Parse(File.ReadAllBytes(Path.Combine(args[0], "golden", "skinning.msgpack")));
        var c = root.Get("cases").Array[0];
        var rigFrames = c.Get("rig").Array.Select(b => b.Bin.ToArray()).ToList();
        var frame = c.Get("frames").Array[1].Array.Select(b => b.Bin.ToArray()).ToList();
        var rig = new HandRig((RigMessage)WireDecoder.Decode(rigFrames));
        var hand = ((FrameMessage)WireDecoder.Decode(frame)).Hands[0];
        var top = rig.TopFour();
        float[] buf = null;
        var rows = new List<string[]>();
        Func<string, Action, int, string[]> row = (name, a, reps) =>
        {
            for (int i = 0; i < 20; i++) a();  // warm up (JIT, buffers sized on first use, pools filled)
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) a();
            long bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / 20;
            var t = new List<double>();
            double med = Time(a, reps, t);
            return new[] { name, med.ToString("0.000", CultureInfo.InvariantCulture), t.Max().ToString("0.000", CultureInfo.InvariantCulture),
                            bytes.ToString(CultureInfo.InvariantCulture) };
        };
        rows.Add(row("decode frame message (1 hand, with vertex offsets), new message", () => WireDecoder.Decode(frame), 300));
        var pooled = new FrameMessage();
        rows.Add(row("decode frame message into a pooled one (HandStreamClient)", () => WireDecoder.Decode(frame, pooled), 300));
        rows.Add(row("decode rig message", () => WireDecoder.Decode(rigFrames), 50));
        rows.Add(row("skin 2885 vertices, 16 weights (HandRig.Skin)", () => buf = rig.Skin(hand, buf), 300));
        rows.Add(row("skin 2885 vertices, top-4 weights", () => buf = rig.Skin(hand, buf, top), 300));
        rows.Add(row("build render mesh (UV seams) + top-4 weights", () => { RenderMesh.Build(rig); rig.TopFour(); }, 30));
        var pos = new Vec3d[26]; var rot = new Quatd[26];
        rows.Add(row("26 XR joints from 21 keypoints", () => XrHandJoints.Compute(hand.Joints, hand.Handedness, pos, rot), 1000));
        var ip = new PoseInterpolator();
        for (int i = 0; i < 8; i++) ip.Add(i / 30.0, 1 + i / 30.0, PoseSample.From(hand));
        rows.Add(row("interpolate a pose (16 slerps + offsets)", () => ip.Sample(1 + 7.5 / 30.0), 1000));
        // the engine's steady state per received frame: the receive thread decodes into a pooled frame, the avatar
        // copies the hand into its interpolator, renders an interpolated pose, and the frame goes back to the pool
        var client = new RealHands.Core.Transport.HandStreamClient("tcp://127.0.0.1:1");
        var taken = new List<FrameMessage>();
        var avatar = new PoseInterpolator();
        int k = 0;
        Action<IList<byte[]>> perFrame = message =>
        {
            client.Handle(message);
            client.TakeFrames(taken);
            foreach (var f in taken)
            {
                k++;
                avatar.Add(k / 30.0, 1 + k / 30.0, f.Hands[0]);
            }
            client.ReturnFrames(taken);
            var shown = avatar.Sample(1 + (k - 1.2) / 30.0);
            buf = rig.Skin(shown.Local, shown.Offsets, shown.Root, buf, top);
        };
        rows.Add(row("per frame: client decode (pooled) + avatar ingest + interpolate + skin + hand back",
                     () => perFrame(frame), 300));
        // the same from the socket's bytes: ZmtpSubscriber reads a replayed PUB peer as a TCP connection, with the
        // buffers reused as HandStreamClient does
        var sub = new RealHands.Core.Transport.ZmtpSubscriber { ReuseBuffers = true };
        sub.Attach(new RealHands.Core.Tests.ReplayPeer(frame));
        rows.Add(row("per frame from the socket: ZMTP receive (reused buffers) + the row above",
                     () => perFrame(sub.ReceiveMessage()), 300));
        foreach (var r in rows) Console.WriteLine(string.Join("\t", r));
        return 0;
    }
}
