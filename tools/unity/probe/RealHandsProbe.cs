// realhands-probe: the Unity package's C# core as a console program. Connects to a RealHands backend, receives and
// decodes frames with the same code the Unity components use, skins every hand, and reports what arrived.
//   mono RealHandsProbe.exe [--endpoint tcp://127.0.0.1:5555] [--frames 100] [--timeout 60] [--json out.json]
// Exit code 0 when --frames frames, a rig and a texture arrived in time; 1 otherwise; 2 for bad arguments.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using RealHands.Core.Skinning;
using RealHands.Core.Transport;
using RealHands.Core.Wire;

static class RealHandsProbe
{
    static int Main(string[] args)
    {
        string endpoint = "tcp://127.0.0.1:5555", json = null;
        int want = 100;
        double timeout = 60;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--endpoint": endpoint = args[++i]; break;
                    case "--frames": want = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--timeout": timeout = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--json": json = args[++i]; break;
                    case "-h": case "--help":
                        Console.WriteLine("usage: RealHandsProbe.exe [--endpoint tcp://host:port] [--frames N] [--timeout S] [--json FILE]");
                        return 0;
                    default: throw new ArgumentException("unknown argument " + args[i]);
                }
            }
            HandStreamClient.ParseEndpoint(endpoint, out _, out _);
        }
        catch (Exception e) when (e is ArgumentException || e is FormatException || e is IndexOutOfRangeException)
        {
            Console.Error.WriteLine("realhands-probe: " + e.Message);
            return 2;
        }

        var latencies = new List<double>();
        var skinMs = new List<double>();
        var rigs = new Dictionary<Handedness, HandRig>();
        int frames = 0, hands = 0, skinned = 0, rigMismatch = 0, textures = 0;
        string textureInfo = null;
        var sw = Stopwatch.StartNew();
        using (var client = new HandStreamClient(endpoint) { MaxBackoffMs = 500 })   // a probe retries quickly
        {
            client.Start();
            var batch = new List<FrameMessage>();
            float[] buffer = null;
            while (sw.Elapsed.TotalSeconds < timeout && !(frames >= want && rigs.Count > 0 && textures > 0))
            {
                foreach (Handedness side in new[] { Handedness.Right, Handedness.Left })
                {
                    var rig = client.TakeRig(side);
                    if (rig != null) rigs[side] = new HandRig(rig);
                    var tex = client.TakeTexture(side);
                    if (tex != null) { textures++; textureInfo = tex.Format + " " + tex.Width + "x" + tex.Height + ", " + tex.Data.Length + " bytes"; }
                }
                batch.Clear();
                client.TakeFrames(batch);
                foreach (var f in batch)
                {
                    frames++;
                    latencies.Add((HandStreamClient.UnixNowNs() - f.PublishNs) / 1e6);
                    foreach (var h in f.Hands)
                    {
                        hands++;
                        HandRig rig;
                        if (!rigs.TryGetValue(h.Handedness, out rig) || rig.Version != h.RigVersion) { rigMismatch++; continue; }
                        var t = Stopwatch.StartNew();
                        buffer = rig.Skin(h, buffer);
                        skinMs.Add(t.Elapsed.TotalMilliseconds);
                        if (IsFinite(buffer)) skinned++;
                    }
                }
                Thread.Sleep(5);
            }
            var st = client.Stats;
            bool ok = frames >= want && rigs.Count > 0 && textures > 0;
            latencies.Sort();
            skinMs.Sort();
            var report = new StringBuilder();
            report.Append("{");
            Field(report, "ok", ok ? "true" : "false");
            Field(report, "endpoint", Quote(endpoint));
            Field(report, "seconds", Num(sw.Elapsed.TotalSeconds));
            Field(report, "frames", frames.ToString());
            Field(report, "hands", hands.ToString());
            Field(report, "hands_skinned", skinned.ToString());
            Field(report, "hands_without_rig", rigMismatch.ToString());
            Field(report, "rigs", st.Rigs.ToString());
            Field(report, "rig_sides", Quote(string.Join(",", rigs.Keys)));
            Field(report, "rig_vertices", rigs.Count > 0 ? First(rigs).VertexCount.ToString() : "0");
            Field(report, "textures", textures.ToString());
            Field(report, "texture", Quote(textureInfo ?? ""));
            Field(report, "heartbeats", st.Heartbeats.ToString());
            Field(report, "decode_errors", st.DecodeErrors.ToString());
            Field(report, "seq_gaps", st.SeqGaps.ToString());
            Field(report, "superseded", st.Superseded.ToString());
            Field(report, "reconnects", st.Reconnects.ToString());
            Field(report, "bytes", st.BytesReceived.ToString());
            Field(report, "latency_ms_median", Num(Percentile(latencies, 0.5)));
            Field(report, "latency_ms_p95", Num(Percentile(latencies, 0.95)));
            Field(report, "latency_ms_max", Num(Percentile(latencies, 1.0)));
            Field(report, "skin_ms_median", Num(Percentile(skinMs, 0.5)));
            Field(report, "state", Quote(st.State.ToString()));
            Field(report, "last_error", Quote(st.LastError ?? ""), last: true);
            report.Append("}");
            Console.WriteLine(report.ToString());
            if (json != null) File.WriteAllText(json, report.ToString() + "\n");
            if (!ok)
                Console.Error.WriteLine("realhands-probe: got " + frames + "/" + want + " frames, " + rigs.Count + " rigs, " + textures +
                                        " textures in " + timeout + " s" + (st.LastError != null ? "; last error: " + st.LastError : "") +
                                        ". Is the backend running (realhands run) and publishing on " + endpoint + "?");
            return ok ? 0 : 1;
        }
    }

    static HandRig First(Dictionary<Handedness, HandRig> d) { foreach (var v in d.Values) return v; return null; }

    static bool IsFinite(float[] a) { foreach (var v in a) if (float.IsNaN(v) || float.IsInfinity(v)) return false; return true; }

    static double Percentile(List<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Round(q * (sorted.Count - 1)))];
    }

    static string Num(double v) { return double.IsNaN(v) ? "null" : v.ToString("0.###", CultureInfo.InvariantCulture); }

    static string Quote(string s) { return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""; }

    static void Field(StringBuilder sb, string name, string value, bool last = false)
    {
        sb.Append("\"").Append(name).Append("\": ").Append(value);
        if (!last) sb.Append(", ");
    }
}
