using System;
using System.Collections.Generic;
using RealHands.Core.Skinning;
using RealHands.Core.Wire;

namespace RealHands.Core.Tracking
{
    /// <summary>A hand's pose at one instant: local joint rotations (model axes), root translation and keypoints
    /// (camera coordinates, OpenCV axes, metres) and rest-space vertex offsets.</summary>
    public sealed class PoseSample
    {
        public Quatd[] Local = new Quatd[HandRig.JointCount];
        public Vec3d Root;
        public float[] Joints = new float[63];
        public float[] Offsets = Empty;
        /// <summary>Changes whenever <see cref="Offsets"/>' values may have changed (a new frame, a new interpolation):
        /// what a renderer compares to skip re-uploading unchanged offsets (the array itself is reused).</summary>
        public long OffsetsStamp;
        public int RigVersion;
        public int TextureVersion;

        static long _stamps;

        /// <summary>A fresh <see cref="OffsetsStamp"/> value.</summary>
        public static long NextStamp() { return System.Threading.Interlocked.Increment(ref _stamps); }

        /// <summary>A new sample holding a copy of the hand state's pose (the state may be reused afterwards).</summary>
        public static PoseSample From(HandState h) { return new PoseSample().Set(h); }

        /// <summary>Overwrite this sample with a hand state's pose, into its own arrays (no garbage when the vertex
        /// offsets keep their size); returns this sample.</summary>
        public PoseSample Set(HandState h)
        {
            Local = HandRig.LocalRotations(h.Pose, Local);
            Root = new Vec3d(h.RootTranslation[0], h.RootTranslation[1], h.RootTranslation[2]);
            if (h.Joints == null || h.Joints.Length != 63) throw new ArgumentException("joints must have 63 values");
            Array.Copy(h.Joints, Joints, 63);
            var src = h.VertexOffsets ?? Empty;
            if (Offsets.Length != src.Length) Offsets = src.Length == 0 ? Empty : new float[src.Length];
            Array.Copy(src, Offsets, src.Length);
            OffsetsStamp = NextStamp();
            RigVersion = h.RigVersion;
            TextureVersion = h.TextureVersion;
            return this;
        }

        static readonly float[] Empty = new float[0];
    }

    /// <summary>Renders a hand between backend frames: the camera runs at 30–60 Hz, the display at 72–120 Hz.
    /// Samples are placed on the local clock by the instants their poses show (the source clock: the capture, plus
    /// the backend's extrapolation when it moved the hand to its publish time) plus the smallest observed transport
    /// delay, and rendered <see cref="Delay"/> behind the newest one, interpolating the two samples around that
    /// instant (slerp per joint, lerp of translation, keypoints and offsets). The shown instant never passes the
    /// newest sample (no overshoot: it holds the newest when the stream stalls) and never goes back (arrival jitter
    /// and the adapting delay cannot make a hand twitch backwards). <see cref="ReceiveToRenderSeconds"/> reports how
    /// long the data shown has been here.</summary>
    public sealed class PoseInterpolator
    {
        struct Entry
        {
            public double Time;       // the instant the pose shows, source clock (seconds)
            public double Received;   // when it arrived, local clock (seconds)
            public PoseSample Pose;
            public bool Pooled;       // the interpolator's own (added as a HandState): reused once dropped
        }

        readonly List<Entry> _samples = new List<Entry>();
        readonly Stack<PoseSample> _free = new Stack<PoseSample>();
        double _clockOffset = double.NaN;   // local seconds - source seconds, smallest seen
        double _interval = 1.0 / 30;        // smoothed frame interval, seconds
        double _lastCapture = double.NaN;
        double _shown = double.NaN;         // the source instant shown last (the shown instant never goes back)

        /// <summary>Extra render delay in frame intervals (1.2: interpolate between the two newest frames, with margin).</summary>
        public double DelayFrames = 1.2;
        public double MaxDelaySeconds = 0.1;
        public int Capacity = 8;

        public double Delay { get { return Math.Min(MaxDelaySeconds, DelayFrames * _interval); } }
        public double FrameInterval { get { return _interval; } }
        public int Count { get { return _samples.Count; } }

        /// <summary>After <see cref="Sample"/>: how far the pose shown lags the newest instant that could have been
        /// received by then, local seconds: (render time - the fastest transport delay seen) - the instant shown. The
        /// interpolation's <see cref="Delay"/> in steady state, more while the stream stalls; NaN before the first
        /// sample or when no finite render time was asked for.</summary>
        public double ReceiveToRenderSeconds { get; private set; } = double.NaN;

        /// <summary>Local seconds at which the newest sample arrived; NaN when there is none.</summary>
        public double NewestReceived { get { return _samples.Count == 0 ? double.NaN : _samples[_samples.Count - 1].Received; } }

        /// <summary>After <see cref="Sample"/>: the source-clock instant (seconds) of the pose shown.</summary>
        public double ShownTime { get { return _shown; } }

        /// <summary>Add a hand state captured at <paramref name="captureSeconds"/> (source clock) that arrived at
        /// <paramref name="localSeconds"/> (the engine's clock); <paramref name="extrapolatedSeconds"/>: how far past
        /// its capture the backend moved the hand along its motion (wire 1.1 <c>extrapolated_ms</c> / 1000; 0 as
        /// measured), so that the pose shows that later instant. Frames are ordered by capture (a repeated or older
        /// capture is ignored); a measured frame whose instant lies before earlier frames' extrapolated ones replaces
        /// those predictions.</summary>
        public void Add(double captureSeconds, double localSeconds, PoseSample sample, double extrapolatedSeconds = 0)
        {
            Add(captureSeconds, localSeconds, sample, extrapolatedSeconds, false);
        }

        /// <summary>As <see cref="Add(double, double, PoseSample, double)"/>, from a hand state copied into a sample
        /// the interpolator owns and reuses once it is dropped: no garbage per frame, and the hand state (a pooled
        /// frame's) may be reused as soon as this returns. Returns false when the frame was ignored (out of order).</summary>
        public bool Add(double captureSeconds, double localSeconds, HandState hand, double extrapolatedSeconds = 0)
        {
            if (hand == null) throw new ArgumentNullException("hand");
            if (double.IsNaN(captureSeconds) || double.IsNaN(localSeconds)) return false;
            if (!double.IsNaN(_lastCapture) && captureSeconds <= _lastCapture) return false;
            var sample = _free.Count > 0 ? _free.Pop() : new PoseSample();
            Add(captureSeconds, localSeconds, sample.Set(hand), extrapolatedSeconds, true);
            return true;
        }

        void Drop(int i)
        {
            if (_samples[i].Pooled) _free.Push(_samples[i].Pose);
            _samples.RemoveAt(i);
        }

        void Add(double captureSeconds, double localSeconds, PoseSample sample, double extrapolatedSeconds, bool pooled)
        {
            if (double.IsNaN(captureSeconds) || double.IsNaN(localSeconds)) { if (pooled) _free.Push(sample); return; }
            if (!double.IsNaN(_lastCapture))
            {
                double dt = captureSeconds - _lastCapture;
                if (dt <= 0) { if (pooled) _free.Push(sample); return; }   // out of order or repeated: ignore
                if (dt < 0.5) _interval += 0.1 * (dt - _interval);
            }
            _lastCapture = captureSeconds;
            double time = captureSeconds + (extrapolatedSeconds > 0 ? extrapolatedSeconds : 0);  // (NaN: 0)
            while (_samples.Count > 0 && _samples[_samples.Count - 1].Time >= time) Drop(_samples.Count - 1);
            double offset = localSeconds - time;
            // the offset tracks the fastest delivery; it relaxes slowly upwards so that a clock drift does not pin it
            _clockOffset = double.IsNaN(_clockOffset) || offset < _clockOffset ? offset : _clockOffset + 0.01 * (offset - _clockOffset);
            _samples.Add(new Entry { Time = time, Received = localSeconds, Pose = sample, Pooled = pooled });
            while (_samples.Count > Math.Max(1, Capacity)) Drop(0);
        }

        public void Clear()
        {
            while (_samples.Count > 0) Drop(_samples.Count - 1);
            _lastCapture = double.NaN;
            _clockOffset = double.NaN;
            _shown = double.NaN;
            ReceiveToRenderSeconds = double.NaN;
        }

        readonly PoseSample _scratch = new PoseSample();
        float[] _ownOffsets = new float[0];  // the scratch's own offsets array (it may borrow a frame's for one call)

        /// <summary>The pose to show at local time <paramref name="localSeconds"/>, or null before the first sample. An
        /// interpolated pose is written into one buffer the interpolator owns (no garbage per rendered frame), and a
        /// sample added as a HandState is reused once it leaves the history: the result is valid until the next
        /// Sample or Add. <see cref="double.PositiveInfinity"/>: the newest sample, as it came.</summary>
        public PoseSample Sample(double localSeconds)
        {
            ReceiveToRenderSeconds = double.NaN;
            if (_samples.Count == 0) return null;
            var newest = _samples[_samples.Count - 1];
            if (double.IsNaN(localSeconds)) return newest.Pose;  // no time: the newest, the shown instant untouched
            double now = localSeconds - _clockOffset;  // the newest instant that could have arrived, source clock
            double t = now - Delay;
            if (!double.IsNaN(_shown) && t < _shown) t = _shown;  // never back in time
            PoseSample result = null;
            if (t >= newest.Time)
            {
                t = newest.Time;  // hold the newest: no extrapolation here
                result = newest.Pose;
            }
            else if (t <= _samples[0].Time)
            {
                t = _samples[0].Time;
                result = _samples[0].Pose;
            }
            else
            {
                for (int i = 1; i < _samples.Count && result == null; i++)
                {
                    if (t > _samples[i].Time) continue;
                    var a = _samples[i - 1];
                    var b = _samples[i];
                    double u = (t - a.Time) / (b.Time - a.Time);
                    _scratch.Offsets = _ownOffsets;  // never blend into an array borrowed from a frame last call
                    result = Lerp(a.Pose, b.Pose, u, _scratch);
                    if (result.Offsets != a.Pose.Offsets && result.Offsets != b.Pose.Offsets) _ownOffsets = result.Offsets;
                }
            }
            _shown = t;
            if (!double.IsInfinity(localSeconds)) ReceiveToRenderSeconds = now - t;
            return result;
        }

        /// <summary>The pose a fraction <paramref name="u"/> of the way from <paramref name="a"/> to
        /// <paramref name="b"/>, written into <paramref name="into"/> (a new sample when null; its arrays are reused
        /// when their sizes fit).</summary>
        public static PoseSample Lerp(PoseSample a, PoseSample b, double u, PoseSample into = null)
        {
            var r = into ?? new PoseSample();
            r.RigVersion = u < 0.5 ? a.RigVersion : b.RigVersion;
            r.TextureVersion = b.TextureVersion;
            r.Root = Vec3d.Lerp(a.Root, b.Root, u);
            for (int j = 0; j < HandRig.JointCount; j++) r.Local[j] = Quatd.Slerp(a.Local[j], b.Local[j], u);
            for (int i = 0; i < 63; i++) r.Joints[i] = (float)(a.Joints[i] + (b.Joints[i] - a.Joints[i]) * u);
            if (a.Offsets.Length == b.Offsets.Length && a.RigVersion == b.RigVersion)
            {
                if (r.Offsets.Length != b.Offsets.Length || r.Offsets == a.Offsets || r.Offsets == b.Offsets)
                    r.Offsets = new float[b.Offsets.Length];
                for (int i = 0; i < r.Offsets.Length; i++) r.Offsets[i] = (float)(a.Offsets[i] + (b.Offsets[i] - a.Offsets[i]) * u);
                r.OffsetsStamp = PoseSample.NextStamp();
            }
            else
            {
                var src = u < 0.5 ? a : b;
                r.Offsets = src.Offsets;  // a different mesh or size: no blend, the nearer frame's own array
                r.OffsetsStamp = src.OffsetsStamp;
            }
            return r;
        }
    }

    /// <summary>Fades a hand out when tracking is lost and back in when it returns. Opacity 0..1.</summary>
    public sealed class VisibilityFader
    {
        public double HoldSeconds = 0.15;     // keep full opacity this long after the last tracked frame
        public double FadeOutSeconds = 0.4;
        public double FadeInSeconds = 0.1;

        double _lastSeen = double.NegativeInfinity;
        double _opacity;
        double _lastUpdate = double.NaN;

        public double Opacity { get { return _opacity; } }

        /// <summary>Record that the hand was tracked (true) or reported lost (false) at <paramref name="localSeconds"/>.</summary>
        public void Observe(bool tracked, double localSeconds)
        {
            if (tracked) _lastSeen = localSeconds;
            else if (_lastSeen > localSeconds - HoldSeconds) _lastSeen = localSeconds - HoldSeconds; // lost: start fading now
        }

        /// <summary>Advance to <paramref name="localSeconds"/>; returns the opacity to render with.</summary>
        public double Update(double localSeconds)
        {
            double dt = double.IsNaN(_lastUpdate) ? 0 : Math.Max(0, localSeconds - _lastUpdate);
            _lastUpdate = localSeconds;
            bool visible = localSeconds - _lastSeen <= HoldSeconds;
            if (visible) _opacity = Math.Min(1, _opacity + (FadeInSeconds > 0 ? dt / FadeInSeconds : 1));
            else _opacity = Math.Max(0, _opacity - (FadeOutSeconds > 0 ? dt / FadeOutSeconds : 1));
            if (visible && _opacity == 0 && dt == 0) _opacity = FadeInSeconds > 0 ? 0 : 1;
            return _opacity;
        }
    }
}
