using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using RealHands.Core.Wire;

namespace RealHands.Core.Transport
{
    public enum ConnectionState { Stopped, Connecting, Connected, Receiving, Stale, Error }

    /// <summary>Counters of a client, safe to read from any thread (a copy).</summary>
    public struct ClientStats
    {
        public ConnectionState State;
        public long Messages, Frames, Rigs, Textures, Heartbeats;
        public long DecodeErrors;      // malformed messages dropped
        public long SeqGaps;           // frames the backend published that never arrived (seq gaps)
        public long Superseded;        // frames replaced by a newer one before the engine took them
        public long Reconnects;
        public long BytesReceived;
        public double LatencyMs;       // publish (backend, Unix clock) to decoded here; needs synced clocks across machines
        public double LatencyMsMax;
        public double BackendFps;
        public string LastError;
        public string Endpoint;
    }

    /// <summary>Receives the RealHands stream on a background thread: connects (and reconnects with backoff), subscribes,
    /// decodes, and keeps the newest messages for the engine's main thread to take. A malformed message is dropped and
    /// counted, never thrown. Dispose to stop.</summary>
    public sealed class HandStreamClient : IDisposable
    {
        public readonly string Host;
        public readonly int Port;
        public int TimeoutMs = 3000;             // connect/handshake limit, and silence (no heartbeat) before reconnecting
        public int MaxBackoffMs = 5000;
        public int FrameQueueCapacity = 8;

        readonly object _lock = new object();
        readonly Queue<FrameMessage> _frames = new Queue<FrameMessage>();
        readonly Stack<FrameMessage> _pool = new Stack<FrameMessage>();   // frames handed back, decoded into again
        readonly RigMessage[] _rigs = new RigMessage[2];
        readonly TextureMessage[] _textures = new TextureMessage[2];
        readonly bool[] _rigTaken = new bool[2], _textureTaken = new bool[2];
        StatsMessage _lastStats;
        ClientStats _stats;
        long _lastSeq = -1;
        volatile bool _running;
        volatile bool _rigRequested;
        Thread _thread;
        ZmtpSubscriber _sub;
        static readonly Stopwatch Clock = Stopwatch.StartNew();

        /// <summary>A monotonic clock in seconds, the one ReceivedAt stamps use.</summary>
        public static double Now { get { return Clock.Elapsed.TotalSeconds; } }

        /// <summary>Messages are stamped with Now when decoded (indexed by WireMessage).</summary>
        public HandStreamClient(string endpoint)
        {
            ParseEndpoint(endpoint, out Host, out Port);
            _stats.Endpoint = endpoint;
        }

        /// <summary>"tcp://host:port" (or "host:port") to host and port; ArgumentException with what is wrong.</summary>
        public static void ParseEndpoint(string endpoint, out string host, out int port)
        {
            if (string.IsNullOrEmpty(endpoint)) throw new ArgumentException("no endpoint: expected tcp://host:port, e.g. tcp://127.0.0.1:5555");
            string e = endpoint.Trim();
            if (e.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase)) e = e.Substring(6);
            else if (e.Contains("://")) throw new ArgumentException("endpoint '" + endpoint + "': only tcp:// is supported");
            int colon = e.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(e.Substring(colon + 1), out port) || port < 1 || port > 65535)
                throw new ArgumentException("endpoint '" + endpoint + "' has no valid port: expected tcp://host:port, e.g. tcp://127.0.0.1:5555");
            host = e.Substring(0, colon).Trim('[', ']');
            if (host == "*" || host.Length == 0) throw new ArgumentException("endpoint '" + endpoint + "': connect to the backend's address, not a wildcard");
        }

        public void Start()
        {
            if (_running) return;
            _running = true;
            lock (_lock) _stats.State = ConnectionState.Connecting;
            _thread = new Thread(Run) { IsBackground = true, Name = "RealHands receive" };
            _thread.Start();
        }

        public void Dispose()
        {
            _running = false;
            var s = _sub;
            if (s != null) s.Dispose();   // unblocks a pending read
            if (_thread != null && _thread != Thread.CurrentThread) _thread.Join(2000);
            _thread = null;
            lock (_lock) _stats.State = ConnectionState.Stopped;
        }

        /// <summary>Ask the backend to send the rigs again (e.g. a frame names a rig version not received).</summary>
        public void RequestRig() { _rigRequested = true; }

        public ClientStats Stats { get { lock (_lock) return _stats; } }
        public StatsMessage LastBackendStats { get { lock (_lock) return _lastStats; } }

        /// <summary>Move the frames received since the last call into <paramref name="into"/>, oldest first (at most
        /// FrameQueueCapacity: when the engine falls behind, the oldest are dropped and the newest wins). Hand them
        /// back with <see cref="ReturnFrames"/> once used, and the next frames are decoded into them: no garbage per
        /// frame (frames not handed back are simply collected).</summary>
        public int TakeFrames(List<FrameMessage> into)
        {
            lock (_lock)
            {
                int n = _frames.Count;
                while (_frames.Count > 0) into.Add(_frames.Dequeue());
                return n;
            }
        }

        /// <summary>Hand frames from <see cref="TakeFrames"/> back for reuse and clear the list. The frames and their
        /// hands' arrays must not be used afterwards: the receive thread writes the next frames into them.</summary>
        public void ReturnFrames(List<FrameMessage> frames)
        {
            lock (_lock)
            {
                foreach (var f in frames) Recycle(f);
            }
            frames.Clear();
        }

        void Recycle(FrameMessage f)  // under _lock
        {
            if (f != null && _pool.Count < FrameQueueCapacity + 4 && !_pool.Contains(f)) _pool.Push(f);
        }

        /// <summary>Frames waiting in the pool to be decoded into (for tests and diagnostics).</summary>
        public int PooledFrames { get { lock (_lock) return _pool.Count; } }

        /// <summary>The newest rig of a hand if it arrived since the last call, else null.</summary>
        public RigMessage TakeRig(Handedness side)
        {
            lock (_lock)
            {
                int i = (int)side;
                if (_rigTaken[i]) return null;
                _rigTaken[i] = true;
                return _rigs[i];
            }
        }

        public RigMessage LatestRig(Handedness side) { lock (_lock) return _rigs[(int)side]; }

        /// <summary>The newest texture of a hand if it arrived since the last call, else null.</summary>
        public TextureMessage TakeTexture(Handedness side)
        {
            lock (_lock)
            {
                int i = (int)side;
                if (_textureTaken[i]) return null;
                _textureTaken[i] = true;
                return _textures[i];
            }
        }

        void Run()
        {
            int backoff = 250;
            bool first = true;
            while (_running)
            {
                try
                {
                    SetState(ConnectionState.Connecting, null);
                    if (!first) lock (_lock) _stats.Reconnects++;
                    first = false;
                    var sub = new ZmtpSubscriber { ReuseBuffers = true };   // Handle copies each message out before the next
                    _sub = sub;
                    sub.Connect(Host, Port, TimeoutMs);
                    sub.Subscribe(WireSpec.RigTopic);
                    sub.Subscribe(WireSpec.FrameTopic);
                    sub.Subscribe(WireSpec.TextureTopic);
                    sub.Subscribe(WireSpec.StatsTopic);
                    _rigRequested = false;
                    SetState(ConnectionState.Connected, null);
                    backoff = 250;
                    long before = 0;
                    while (_running)
                    {
                        if (_rigRequested) { _rigRequested = false; sub.Subscribe(WireSpec.RigTopic); }
                        var frames = sub.ReceiveMessage();
                        long b = sub.BytesReceived;
                        lock (_lock) _stats.BytesReceived += b - before;
                        before = b;
                        Handle(frames);
                    }
                }
                catch (Exception e)
                {
                    if (!_running) break;
                    var se = e.InnerException as SocketException;
                    bool stale = e is IOException && se != null &&
                                 (se.SocketErrorCode == SocketError.TimedOut || se.SocketErrorCode == SocketError.WouldBlock);
                    SetState(stale ? ConnectionState.Stale : ConnectionState.Error,
                             stale ? "nothing received for " + TimeoutMs + " ms (backend stopped or unreachable); reconnecting" : e.Message);
                }
                finally
                {
                    var s = _sub;
                    _sub = null;
                    if (s != null) s.Dispose();
                }
                for (int waited = 0; _running && waited < backoff; waited += 50) Thread.Sleep(50);
                backoff = Math.Min(MaxBackoffMs, backoff * 2);
            }
        }

        void SetState(ConnectionState s, string error)
        {
            lock (_lock)
            {
                _stats.State = s;
                if (error != null) _stats.LastError = error;
            }
        }

        /// <summary>Decode one received message and file it (public for tests that feed raw messages).</summary>
        public void Handle(IList<byte[]> frames)
        {
            WireMessage msg;
            string error;
            FrameMessage reuse = null;
            lock (_lock) if (_pool.Count > 0) reuse = _pool.Pop();
            bool ok = WireDecoder.TryDecode(frames, reuse, out msg, out error);
            double now = Now;
            lock (_lock)
            {
                _stats.Messages++;
                if (_stats.State == ConnectionState.Connected || _stats.State == ConnectionState.Stale) _stats.State = ConnectionState.Receiving;
                if (reuse != null && !ReferenceEquals(msg, reuse)) Recycle(reuse);   // not a frame, or malformed
                if (!ok)
                {
                    _stats.DecodeErrors++;
                    _stats.LastError = "dropped a malformed message: " + error;
                    return;
                }
                msg.ReceivedAt = now;
                var frame = msg as FrameMessage;
                if (frame != null)
                {
                    _stats.Frames++;
                    if (_lastSeq >= 0 && frame.Seq > _lastSeq + 1) _stats.SeqGaps += frame.Seq - _lastSeq - 1;
                    _lastSeq = frame.Seq;
                    double lat = (UnixNowNs() - frame.PublishNs) / 1e6;
                    _stats.LatencyMs = _stats.Frames == 1 ? lat : _stats.LatencyMs + 0.1 * (lat - _stats.LatencyMs);
                    _stats.LatencyMsMax = Math.Max(_stats.LatencyMsMax, lat);
                    _frames.Enqueue(frame);
                    while (_frames.Count > FrameQueueCapacity) { Recycle(_frames.Dequeue()); _stats.Superseded++; }
                    foreach (var h in frame.Hands)
                    {
                        var rig = _rigs[(int)h.Handedness];
                        if (rig == null || rig.RigVersion != h.RigVersion) _rigRequested = true;
                    }
                    return;
                }
                var r = msg as RigMessage;
                if (r != null) { _stats.Rigs++; _rigs[(int)r.Handedness] = r; _rigTaken[(int)r.Handedness] = false; return; }
                var t = msg as TextureMessage;
                if (t != null) { _stats.Textures++; _textures[(int)t.Handedness] = t; _textureTaken[(int)t.Handedness] = false; return; }
                var s = msg as StatsMessage;
                if (s != null) { _stats.Heartbeats++; _lastStats = s; _stats.BackendFps = s.Fps; }
            }
        }

        static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>Unix time in nanoseconds (100 ns resolution).</summary>
        public static long UnixNowNs() { return (DateTime.UtcNow - Epoch).Ticks * 100; }
    }
}
