// A ZMTP 3.0 PUB peer replayed from memory, for reading messages through ZmtpSubscriber without a socket.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace RealHands.Core.Tests
{
    /// <summary>A PUB peer from memory: greeting and READY, then the given messages over and over; what the
    /// subscriber writes (its greeting, READY and subscriptions) is dropped. Used by the pooling tests and the C#
    /// benchmark (tools/unity/probe), which reads frames through ZmtpSubscriber as from a TCP connection.</summary>
    public sealed class ReplayPeer : Stream
    {
        readonly byte[] _start, _loop;
        int _pos;
        bool _started;

        public ReplayPeer(List<List<byte[]>> messages) : this(messages.ToArray()) { }

        public ReplayPeer(params List<byte[]>[] messages)
        {
            var s = new List<byte>(new byte[64]);
            s[0] = 0xFF; s[9] = 0x7F; s[10] = 3;
            for (int i = 0; i < 4; i++) s[12 + i] = (byte)"NULL"[i];
            var body = new List<byte> { 5 };
            body.AddRange(Encoding.ASCII.GetBytes("READY"));
            body.Add(11);
            body.AddRange(Encoding.ASCII.GetBytes("Socket-Type"));
            body.AddRange(new byte[] { 0, 0, 0, 3 });
            body.AddRange(Encoding.ASCII.GetBytes("PUB"));
            s.Add(0x04); s.Add((byte)body.Count); s.AddRange(body);
            _start = s.ToArray();
            var loop = new List<byte>();
            foreach (var m in messages)
                for (int i = 0; i < m.Count; i++)
                {
                    byte more = (byte)(i < m.Count - 1 ? 1 : 0);
                    long n = m[i].Length;
                    if (n <= 255) { loop.Add(more); loop.Add((byte)n); }
                    else { loop.Add((byte)(more | 2)); for (int k = 7; k >= 0; k--) loop.Add((byte)(n >> (8 * k))); }
                    loop.AddRange(m[i]);
                }
            _loop = loop.ToArray();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var src = _started ? _loop : _start;
            int n = Math.Min(count, src.Length - _pos);
            Buffer.BlockCopy(src, _pos, buffer, offset, n);
            _pos += n;
            if (_pos == src.Length) { _pos = 0; _started = true; }
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) { }
        public override void Flush() { }
        public override bool CanRead { get { return true; } }
        public override bool CanWrite { get { return true; } }
        public override bool CanSeek { get { return false; } }
        public override long Length { get { throw new NotSupportedException(); } }
        public override long Position { get { throw new NotSupportedException(); } set { throw new NotSupportedException(); } }
        public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
        public override void SetLength(long value) { throw new NotSupportedException(); }
    }
}
