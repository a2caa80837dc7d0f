using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using NUnit.Framework;
using RealHands.Core.Transport;
using RealHands.Core.Wire;

namespace RealHands.Core.Tests
{
    /// <summary>Fuzzed and truncated messages never throw out of the decoder or the client; the ZMTP client's
    /// protocol handling against a scripted peer. (The live test against real libzmq runs from the Python suite.)</summary>
    [TestFixture]
    public class RobustnessTests
    {
        static IEnumerable<List<byte[]>> Seeds()
        {
            foreach (var k in new[] { "rig", "frame", "texture", "stats" }) yield return TestData.Frames("golden/" + k + ".bin");
            var sk = MsgPackReader.Parse(TestData.Bytes("golden/skinning.msgpack"));
            var c = sk.Get("cases").Array[0];
            yield return c.Get("rig").Array.Select(b => b.Bin.ToArray()).ToList();
            yield return c.Get("frames").Array[1].Array.Select(b => b.Bin.ToArray()).ToList();
        }

        static List<byte[]> Copy(List<byte[]> m) { return m.Select(f => (byte[])f.Clone()).ToList(); }

        [Test]
        public void FuzzedMessagesAreDroppedAndCountedNeverThrown()
        {
            var rng = new Random(1234);
            var seeds = Seeds().ToList();
            var client = new HandStreamClient("tcp://127.0.0.1:1");   // never started: Handle() is the receive path
            int cases = 0, decoded = 0, refused = 0;
            foreach (var seed in seeds)
            {
                Assert.IsTrue(WireDecoder.TryDecode(seed, out _, out _), "seed decodes");
                for (int i = 0; i < 400; i++)
                {
                    var m = Copy(seed);
                    int op = rng.Next(7);
                    int fi = rng.Next(m.Count);
                    var f = m[fi];
                    switch (op)
                    {
                        case 0: if (f.Length > 0) m[fi] = f.Take(rng.Next(f.Length)).ToArray(); break;        // truncate a frame
                        case 1: for (int k = 0; k < 1 + rng.Next(8) && f.Length > 0; k++) f[rng.Next(f.Length)] ^= (byte)(1 << rng.Next(8)); break; // bit flips
                        case 2: if (f.Length > 0) f[rng.Next(f.Length)] = (byte)rng.Next(256); break;        // a random byte
                        case 3: m.RemoveAt(fi); break;                                                        // a frame lost
                        case 4: m.Add(new byte[rng.Next(64)]); break;                                         // an extra frame
                        case 5: if (m.Count > 1) { var b = new byte[rng.Next(200)]; rng.NextBytes(b); m[1] = b; } break; // garbage header
                        default: if (f.Length > 8) { int at = rng.Next(f.Length - 4); Buffer.BlockCopy(new byte[] { 0xff, 0xff, 0xff, 0xff }, 0, f, at, 4); } break; // huge length
                    }
                    WireMessage msg; string error;
                    bool ok;
                    try { ok = WireDecoder.TryDecode(m, out msg, out error); }
                    catch (Exception e) { Assert.Fail("TryDecode threw " + e); return; }
                    if (ok) decoded++; else { refused++; Assert.IsNotNull(error); Assert.IsNotEmpty(error); }
                    try { client.Handle(m); }
                    catch (Exception e) { Assert.Fail("the client's receive path threw " + e); }
                    cases++;
                }
            }
            // truncations of the header frames: every prefix length of small ones, 300 spread over large ones
            foreach (var seed in seeds)
                for (int n = 0; n < seed[1].Length; n += Math.Max(1, seed[1].Length / 300))
                {
                    var m = Copy(seed);
                    m[1] = seed[1].Take(n).ToArray();
                    Assert.IsFalse(WireDecoder.TryDecode(m, out _, out _), "a header cut at " + n + " bytes must not decode");
                    client.Handle(m);
                    cases++;
                    refused++;
                }
            var st = client.Stats;
            Assert.AreEqual(cases, st.Messages);
            Assert.AreEqual(refused, st.DecodeErrors, "every refused message is counted as dropped");
            Assert.Greater(refused, cases / 2);
            Console.WriteLine("fuzz: {0} messages, {1} decoded, {2} dropped and counted", cases, decoded, refused);
        }

        [Test]
        public void ClientKeepsNewestFramesAndCountsGaps()
        {
            var golden = TestData.Frames("golden/frame.bin");
            var client = new HandStreamClient("tcp://127.0.0.1:1") { FrameQueueCapacity = 3 };
            // sequence numbers 100..104, then 107 (two frames lost on the way): the queue keeps the newest three
            foreach (var seq in new[] { 100, 101, 102, 103, 104, 107 }) client.Handle(WithSeq(golden, seq));
            var got = new List<FrameMessage>();
            Assert.AreEqual(3, client.TakeFrames(got));
            CollectionAssert.AreEqual(new long[] { 103, 104, 107 }, got.Select(f => (long)f.Seq).ToArray(), "oldest first, newest kept");
            Assert.AreEqual(3, client.Stats.Superseded, "100, 101 and 102 were pushed out unread");
            Assert.AreEqual(2, client.Stats.SeqGaps, "105 and 106 never arrived");
            client.Handle(TestData.Frames("golden/rig.bin"));
            Assert.IsNotNull(client.TakeRig(Handedness.Right));
            Assert.IsNull(client.TakeRig(Handedness.Right), "a rig is handed out once");
            Assert.IsNotNull(client.LatestRig(Handedness.Right));
        }

        /// <summary>The golden frame message with another sequence number: its header holds "seq" as a msgpack
        /// positive fixint (0..127), a single byte after the key, patched here.</summary>
        static List<byte[]> WithSeq(List<byte[]> message, int seq)
        {
            Assert.That(seq >= 0 && seq < 128);
            var copy = message.Select(f => (byte[])f.Clone()).ToList();
            var header = copy[1];
            var key = new byte[] { 0xa3, (byte)'s', (byte)'e', (byte)'q' };
            for (int i = 0; i + key.Length < header.Length; i++)
                if (key.Select((b, j) => header[i + j] == b).All(x => x))
                {
                    Assert.That(header[i + key.Length] < 0x80, "the golden seq is a positive fixint");
                    header[i + key.Length] = (byte)seq;
                    return copy;
                }
            Assert.Fail("no seq field in the golden frame header");
            return null;
        }

        [Test]
        public void EndpointsAreCheckedWithActionableErrors()
        {
            string host; int port;
            HandStreamClient.ParseEndpoint("tcp://192.168.1.20:5555", out host, out port);
            Assert.AreEqual("192.168.1.20", host); Assert.AreEqual(5555, port);
            StringAssert.Contains("port", Assert.Throws<ArgumentException>(() => HandStreamClient.ParseEndpoint("tcp://localhost", out host, out port)).Message);
            StringAssert.Contains("tcp://", Assert.Throws<ArgumentException>(() => HandStreamClient.ParseEndpoint("ipc:///tmp/x", out host, out port)).Message);
            StringAssert.Contains("wildcard", Assert.Throws<ArgumentException>(() => HandStreamClient.ParseEndpoint("tcp://*:5555", out host, out port)).Message);
        }

        // --- ZMTP against a scripted peer on a loopback socket ---

        static void Peer(Action<NetworkStream> script, Action<int> client)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            Exception peerError = null;
            var t = new Thread(() =>
            {
                try
                {
                    using (var c = listener.AcceptTcpClient())
                    using (var s = c.GetStream()) script(s);
                }
                catch (Exception e) { peerError = e; }
            });
            t.Start();
            try { client(port); }
            finally { t.Join(5000); listener.Stop(); }
            if (peerError != null) throw peerError;
        }

        static byte[] Greeting(string mechanism = "NULL")
        {
            var g = new byte[64];
            g[0] = 0xFF; g[9] = 0x7F; g[10] = 3; g[11] = 1;
            Encoding.ASCII.GetBytes(mechanism, 0, mechanism.Length, g, 12);
            return g;
        }

        static byte[] Command(string name, byte[] data)
        {
            var body = new byte[1 + name.Length + data.Length];
            body[0] = (byte)name.Length;
            Encoding.ASCII.GetBytes(name, 0, name.Length, body, 1);
            Buffer.BlockCopy(data, 0, body, 1 + name.Length, data.Length);
            return Frame(0x04, body);
        }

        static byte[] Frame(byte flags, byte[] body)
        {
            var ms = new MemoryStream();
            if (body.Length > 255)
            {
                ms.WriteByte((byte)(flags | 0x02));
                for (int i = 7; i >= 0; i--) ms.WriteByte((byte)((long)body.Length >> (8 * i)));
            }
            else { ms.WriteByte(flags); ms.WriteByte((byte)body.Length); }
            ms.Write(body, 0, body.Length);
            return ms.ToArray();
        }

        static byte[] ReadyXpub()
        {
            var name = Encoding.ASCII.GetBytes("Socket-Type");
            var val = Encoding.ASCII.GetBytes("XPUB");
            var d = new byte[] { (byte)name.Length }.Concat(name).Concat(new byte[] { 0, 0, 0, (byte)val.Length }).Concat(val).ToArray();
            return Command("READY", d);
        }

        static byte[] ReadN(Stream s, int n)
        {
            var b = new byte[n];
            for (int o = 0; o < n;) { int r = s.Read(b, o, n - o); if (r <= 0) throw new IOException("closed"); o += r; }
            return b;
        }

        [Test]
        public void ReceivesLongFramesAnswersPingAndSendsSubscriptions()
        {
            var big = new byte[70000];
            new Random(3).NextBytes(big);
            byte[] pong = null, subscription = null;
            Peer(s =>
            {
                s.Write(Greeting(), 0, 64);
                var g = ReadN(s, 64);
                Assert.AreEqual(0xFF, g[0]); Assert.AreEqual(3, g[10]);
                var r = ReadyXpub(); s.Write(r, 0, r.Length);
                var head = ReadN(s, 2); ReadN(s, head[1]);                 // the client's READY
                head = ReadN(s, 2); subscription = ReadN(s, head[1]);      // its subscription
                var ping = Command("PING", new byte[] { 0, 10, (byte)'h', (byte)'i' }); s.Write(ping, 0, ping.Length);
                var f1 = Frame(0x01, Encoding.ASCII.GetBytes("rh.frame")); s.Write(f1, 0, f1.Length);
                var f2 = Frame(0x00, big); s.Write(f2, 0, f2.Length);
                head = ReadN(s, 2); pong = ReadN(s, head[1]);
            }, port =>
            {
                using (var sub = new ZmtpSubscriber())
                {
                    sub.Connect("127.0.0.1", port, 3000);
                    Assert.AreEqual("XPUB", sub.PeerSocketType);
                    sub.Subscribe("rh.frame");
                    var msg = sub.ReceiveMessage();
                    Assert.AreEqual(2, msg.Count);
                    Assert.AreEqual("rh.frame", Encoding.ASCII.GetString(msg[0]));
                    CollectionAssert.AreEqual(big, msg[1]);
                }
            });
            CollectionAssert.AreEqual(new byte[] { 1 }.Concat(Encoding.ASCII.GetBytes("rh.frame")).ToArray(), subscription);
            Assert.AreEqual("PONG", Encoding.ASCII.GetString(pong, 1, 4));
            CollectionAssert.AreEqual(Encoding.ASCII.GetBytes("hi"), pong.Skip(5).ToArray());
        }

        [Test]
        public void APeerThatIsNotZeroMqGivesAClearError()
        {
            ZmtpException ex = null;
            Peer(s =>
            {
                var http = Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n");
                s.Write(http, 0, http.Length);
                Thread.Sleep(200);
            }, port =>
            {
                using (var sub = new ZmtpSubscriber())
                    ex = Assert.Throws<ZmtpException>(() => sub.Connect("127.0.0.1", port, 3000));
            });
            StringAssert.Contains("not a ZeroMQ socket", ex.Message);
        }

        [Test]
        public void CurveIsReportedNotMisread()
        {
            ZmtpException ex = null;
            Peer(s => { s.Write(Greeting("CURVE"), 0, 64); ReadN(s, 64); Thread.Sleep(100); }, port =>
            {
                using (var sub = new ZmtpSubscriber())
                    ex = Assert.Throws<ZmtpException>(() => sub.Connect("127.0.0.1", port, 3000));
            });
            StringAssert.Contains("CURVE", ex.Message);
        }

        [Test]
        public void NoBackendMeansAStateAndAnErrorNotAnException()
        {
            int port;
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; l.Stop();   // a port nobody listens on
            using (var client = new HandStreamClient("tcp://127.0.0.1:" + port) { TimeoutMs = 500 })
            {
                client.Start();
                var until = DateTime.UtcNow.AddSeconds(5);
                while (client.Stats.LastError == null && DateTime.UtcNow < until) Thread.Sleep(20);
                var st = client.Stats;
                Assert.IsNotNull(st.LastError);
                Assert.That(st.State == ConnectionState.Error || st.State == ConnectionState.Connecting);
            }
        }
    }
}
