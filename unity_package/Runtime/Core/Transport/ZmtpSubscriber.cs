// A ZeroMQ SUB socket in plain C#: ZMTP 3.0 (https://rfc.zeromq.org/spec/23/) over TCP, NULL security mechanism.
// No native plugin, so it runs wherever System.Net.Sockets does (Windows, macOS, Linux, Android/Quest, IL2CPP).
using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Text;

namespace RealHands.Core.Transport
{
    /// <summary>The peer broke the protocol, or the connection failed; the message says which.</summary>
    public sealed class ZmtpException : Exception
    {
        public ZmtpException(string message) : base(message) { }
    }

    /// <summary>One connection of a SUB socket to a PUB/XPUB peer. Blocking; not thread-safe (one reader thread).
    /// Connect, Subscribe, then ReceiveMessage in a loop. Reconnecting is the caller's job (HandStreamClient).</summary>
    public sealed class ZmtpSubscriber : IDisposable
    {
        public const int MaxFrameBytes = 64 << 20;     // refuse frames above 64 MiB instead of allocating them
        public const int MaxFramesPerMessage = 64;

        TcpClient _tcp;
        Stream _stream;
        readonly byte[] _small = new byte[8];

        public string PeerSocketType { get; private set; }
        public int PeerMinorVersion { get; private set; }
        public long BytesReceived { get; private set; }

        /// <summary>Connect and handshake (greeting, NULL READY). <paramref name="timeoutMs"/> bounds the connect,
        /// the handshake and each later read (a read that times out throws IOException).</summary>
        public void Connect(string host, int port, int timeoutMs)
        {
            _tcp = new TcpClient { NoDelay = true, ReceiveTimeout = timeoutMs, SendTimeout = timeoutMs, ReceiveBufferSize = 1 << 20 };
            var ar = _tcp.BeginConnect(host, port, null, null);
            if (!ar.AsyncWaitHandle.WaitOne(timeoutMs))
            {
                _tcp.Close();
                throw new ZmtpException("no answer from tcp://" + host + ":" + port + " within " + timeoutMs + " ms (backend not running, wrong address, or a firewall?)");
            }
            _tcp.EndConnect(ar);
            _stream = _tcp.GetStream();
            Handshake();
        }

        /// <summary>For tests and other transports: run the protocol over an already-open stream.</summary>
        public void Attach(Stream stream)
        {
            _stream = stream;
            Handshake();
        }

        void Handshake()
        {
            // greeting: signature (0xFF, 8 bytes padding, 0x7F), version 3.0, mechanism "NULL" (20 bytes), as-server 0, filler 31
            var g = new byte[64];
            g[0] = 0xFF; g[9] = 0x7F; g[10] = 3; g[11] = 0;
            Encoding.ASCII.GetBytes("NULL", 0, 4, g, 12);
            _stream.Write(g, 0, 64);
            var peer = new byte[64];
            ReadExactly(peer, 0, 10);
            if (peer[0] != 0xFF || peer[9] != 0x7F)
                throw new ZmtpException("the peer is not a ZeroMQ socket (bad greeting signature): is the address the RealHands backend's?");
            ReadExactly(peer, 10, 54);
            if (peer[10] < 3)
                throw new ZmtpException("the peer speaks ZMTP " + peer[10] + "." + peer[11] + "; 3.x is needed (libzmq 4 or later)");
            PeerMinorVersion = peer[11];
            string mech = Encoding.ASCII.GetString(peer, 12, 20).TrimEnd('\0');
            if (mech != "NULL")
                throw new ZmtpException("the backend uses the " + mech + " security mechanism; this client speaks only NULL (run the backend without --curve-key, or use a libzmq client)");

            SendCommand("READY", Property("Socket-Type", "SUB"));
            var frames = new List<byte[]>();
            bool command;
            ReadFrame(out command, frames, true);
            if (!command) throw new ZmtpException("expected the peer's READY command");
            string name;
            var body = CommandBody(frames[0], out name);
            if (name == "ERROR") throw new ZmtpException("the backend refused the connection: " + ErrorReason(body) + " (LAN allow-list?)");
            if (name != "READY") throw new ZmtpException("expected READY from the peer, got " + name);
            var props = ParseProperties(body);
            string type;
            props.TryGetValue("Socket-Type", out type);
            PeerSocketType = type;
            if (type != "PUB" && type != "XPUB")
                throw new ZmtpException("the peer is a ZeroMQ " + (type ?? "?") + " socket, not PUB/XPUB: wrong port?");
        }

        /// <summary>Subscribe to messages whose first frame starts with <paramref name="prefix"/> ("" for all).</summary>
        public void Subscribe(string prefix)
        {
            var t = Encoding.UTF8.GetBytes(prefix);
            var msg = new byte[t.Length + 1];
            msg[0] = 1;                                      // ZMTP 3.0: a subscription is a message 0x01 + prefix
            Buffer.BlockCopy(t, 0, msg, 1, t.Length);
            WriteFrame(0, msg);
        }

        /// <summary>Reuse the returned list and frame buffers from message to message (a frame's buffer is reused when
        /// the same position in the next message has the same size, as a stream's frames mostly do): no garbage per
        /// message, but a message's frames are only valid until the next ReceiveMessage. HandStreamClient decodes
        /// (copies) each message before receiving the next, and turns this on.</summary>
        public bool ReuseBuffers;

        readonly List<byte[]> _frames = new List<byte[]>();
        readonly List<byte[]> _previous = new List<byte[]>();   // last message's buffers, by position

        /// <summary>Block until the next complete multipart message and return its frames. Commands in between (PING)
        /// are answered. Throws IOException on timeout or a closed connection, ZmtpException on protocol errors.</summary>
        public List<byte[]> ReceiveMessage()
        {
            List<byte[]> frames;
            if (ReuseBuffers)
            {
                _previous.Clear();
                _previous.AddRange(_frames);
                _frames.Clear();
                frames = _frames;
            }
            else frames = new List<byte[]>();
            while (true)
            {
                bool command;
                bool more = ReadFrame(out command, frames, false);
                if (command)
                {
                    string name;
                    var body = CommandBody(frames[frames.Count - 1], out name);
                    frames.RemoveAt(frames.Count - 1);
                    if (name == "PING") SendPong(body);
                    else if (name == "ERROR") throw new ZmtpException("the backend closed the connection: " + ErrorReason(body));
                    continue;
                }
                if (!more) return frames;
                if (frames.Count >= MaxFramesPerMessage) throw new ZmtpException("a message of more than " + MaxFramesPerMessage + " frames");
            }
        }

        bool ReadFrame(out bool command, List<byte[]> into, bool handshake)
        {
            ReadInto(_small, 0, 2);                      // flags, then the first (or only) size byte
            byte flags = _small[0];
            if ((flags & 0xF8) != 0) throw new ZmtpException("bad frame flags 0x" + flags.ToString("x2") + " (not a ZMTP 3 stream?)");
            ulong size = _small[1];
            if ((flags & 0x02) != 0)
            {
                ReadInto(_small, 1, 7);                  // long frame: 8-byte big-endian size
                for (int i = 1; i < 8; i++) size = (size << 8) | _small[i];
            }
            command = (flags & 0x04) != 0;
            if (size > MaxFrameBytes) throw new ZmtpException("a frame of " + size + " bytes (limit " + MaxFrameBytes + ")");
            if (handshake && !command) throw new ZmtpException("expected a command during the handshake");
            int at = into.Count;
            var data = ReuseBuffers && !command && !handshake && at < _previous.Count && _previous[at].Length == (int)size
                ? _previous[at] : new byte[size];
            ReadInto(data, 0, (int)size);
            into.Add(data);
            return (flags & 0x01) != 0 && !command;
        }

        void ReadExactly(byte[] buf, int offset, int count) { ReadInto(buf, offset, count); }

        void ReadInto(byte[] buf, int offset, int count)
        {
            while (count > 0)
            {
                int n = _stream.Read(buf, offset, count);
                if (n <= 0) throw new IOException("the backend closed the connection");
                offset += n; count -= n; BytesReceived += n;
            }
        }

        void WriteFrame(byte flags, byte[] body)
        {
            byte[] head;
            if (body.Length <= 255) head = new[] { flags, (byte)body.Length };
            else
            {
                head = new byte[9];
                head[0] = (byte)(flags | 0x02);
                long n = body.Length;
                for (int i = 8; i >= 1; i--) { head[i] = (byte)(n & 0xFF); n >>= 8; }
            }
            _stream.Write(head, 0, head.Length);
            _stream.Write(body, 0, body.Length);
            _stream.Flush();
        }

        void SendCommand(string name, byte[] data)
        {
            var body = new byte[1 + name.Length + data.Length];
            body[0] = (byte)name.Length;
            Encoding.ASCII.GetBytes(name, 0, name.Length, body, 1);
            Buffer.BlockCopy(data, 0, body, 1 + name.Length, data.Length);
            WriteFrame(0x04, body);
        }

        void SendPong(byte[] pingBody)
        {
            // PING body: TTL (2 bytes) + context; PONG echoes the context
            int ctx = Math.Max(0, pingBody.Length - 2);
            var data = new byte[ctx];
            if (ctx > 0) Buffer.BlockCopy(pingBody, 2, data, 0, ctx);
            SendCommand("PONG", data);
        }

        static byte[] Property(string name, string value)
        {
            var n = Encoding.ASCII.GetBytes(name);
            var v = Encoding.ASCII.GetBytes(value);
            var r = new byte[1 + n.Length + 4 + v.Length];
            r[0] = (byte)n.Length;
            Buffer.BlockCopy(n, 0, r, 1, n.Length);
            int o = 1 + n.Length;
            r[o] = (byte)(v.Length >> 24); r[o + 1] = (byte)(v.Length >> 16); r[o + 2] = (byte)(v.Length >> 8); r[o + 3] = (byte)v.Length;
            Buffer.BlockCopy(v, 0, r, o + 4, v.Length);
            return r;
        }

        static byte[] CommandBody(byte[] frame, out string name)
        {
            if (frame.Length < 1 || frame[0] + 1 > frame.Length) throw new ZmtpException("malformed command frame");
            name = Encoding.ASCII.GetString(frame, 1, frame[0]);
            var body = new byte[frame.Length - 1 - frame[0]];
            Buffer.BlockCopy(frame, 1 + frame[0], body, 0, body.Length);
            return body;
        }

        static string ErrorReason(byte[] body)
        {
            if (body.Length < 1 || body[0] + 1 > body.Length) return "(no reason)";
            return Encoding.ASCII.GetString(body, 1, body[0]);
        }

        /// <summary>Metadata properties of a READY command: (u8 name length, name, u32 BE value length, value)*.</summary>
        public static Dictionary<string, string> ParseProperties(byte[] body)
        {
            var props = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            int o = 0;
            while (o < body.Length)
            {
                int nl = body[o];
                if (o + 1 + nl + 4 > body.Length) throw new ZmtpException("malformed READY metadata");
                string name = Encoding.ASCII.GetString(body, o + 1, nl);
                o += 1 + nl;
                long vl = ((long)body[o] << 24) | ((long)body[o + 1] << 16) | ((long)body[o + 2] << 8) | body[o + 3];
                o += 4;
                if (vl > body.Length - o) throw new ZmtpException("malformed READY metadata");
                props[name] = Encoding.UTF8.GetString(body, o, (int)vl);
                o += (int)vl;
            }
            return props;
        }

        public void Dispose()
        {
            try { if (_stream != null) _stream.Dispose(); } catch (Exception) { }
            try { if (_tcp != null) _tcp.Close(); } catch (Exception) { }
            _stream = null;
            _tcp = null;
        }
    }
}
