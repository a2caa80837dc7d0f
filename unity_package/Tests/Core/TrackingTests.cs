using System;
using System.Collections.Generic;
using NUnit.Framework;
using RealHands.Core.Skinning;
using RealHands.Core.Tracking;

namespace RealHands.Core.Tests
{
    [TestFixture]
    public class TrackingTests
    {
        static PoseSample At(double x, double angle)
        {
            var s = new PoseSample { Root = new Vec3d(x, 0, 0.5) };
            for (int j = 0; j < 16; j++) s.Local[j] = Quatd.FromAxisAngle(0, 0, angle);
            s.Offsets = new float[] { (float)x, 0, 0 };
            s.OffsetsStamp = PoseSample.NextStamp();
            return s;
        }

        [Test]
        public void InterpolatesBetweenFramesAtRenderRate()
        {
            var ip = new PoseInterpolator { DelayFrames = 1.0 };
            // frames captured every 1/30 s, arriving 20 ms later on the local clock (offset 100 s)
            for (int i = 0; i < 5; i++) ip.Add(i / 30.0, 100 + i / 30.0 + 0.02, At(i * 0.01, i * 0.1));
            Assert.AreEqual(1 / 30.0, ip.FrameInterval, 1e-9);
            // render at local time of frame 4's arrival: shows capture time 4/30 - delay = 3/30 -> frame 3 exactly
            var s = ip.Sample(100 + 4 / 30.0 + 0.02);
            Assert.AreEqual(0.03, s.Root.X, 1e-9);
            // half a frame later: halfway between 3 and 4, rotations slerped
            s = ip.Sample(100 + 4.5 / 30.0 + 0.02);
            Assert.AreEqual(0.035, s.Root.X, 1e-9);
            Assert.AreEqual(0.35, Quatd.Angle(Quatd.Identity, s.Local[5]), 1e-9);
            Assert.AreEqual(0.035f, s.Offsets[0], 1e-7);
            // the stream stalls: hold the newest, never extrapolate
            s = ip.Sample(200);
            Assert.AreEqual(0.04, s.Root.X, 1e-9);
        }

        [Test]
        public void InterpolationWritesOneReusedBufferAndStampsEachNewBlend()
        {
            var ip = new PoseInterpolator { DelayFrames = 1.0 };
            var frames = new PoseSample[5];
            for (int i = 0; i < 5; i++) ip.Add(i / 30.0, 100 + i / 30.0 + 0.02, frames[i] = At(i * 0.01, i * 0.1));
            var s1 = ip.Sample(100 + 4.25 / 30.0 + 0.02);
            long stamp1 = s1.OffsetsStamp;
            float[] buffer = s1.Offsets;
            var s2 = ip.Sample(100 + 4.5 / 30.0 + 0.02);
            Assert.AreSame(s1, s2, "one buffer for interpolated poses");
            Assert.AreSame(buffer, s2.Offsets, "its offsets array is reused");
            Assert.AreNotEqual(stamp1, s2.OffsetsStamp, "new values, new stamp: a renderer re-uploads");
            Assert.AreEqual(0.035f, s2.Offsets[0], 1e-7);
            for (int i = 0; i < 5; i++) Assert.AreEqual((float)(i * 0.01), frames[i].Offsets[0], 1e-9, "the frames are never written");
            // a rig re-sent between two frames: no blend, the nearer frame's offsets; the next blend must not write into them
            var other = new PoseInterpolator { DelayFrames = 1.0 };
            var f = new PoseSample[3];
            for (int i = 0; i < 3; i++) { f[i] = At(i * 0.01, i * 0.1); f[i].RigVersion = i == 0 ? 1 : 2; other.Add(i / 30.0, 100 + i / 30.0 + 0.02, f[i]); }
            Assert.AreSame(f[0].Offsets, other.Sample(100 + 1.25 / 30.0 + 0.02).Offsets, "different rigs: the nearer frame's own offsets");
            Assert.AreEqual(0.015f, other.Sample(100 + 2.5 / 30.0 + 0.02).Offsets[0], 1e-7);
            Assert.AreEqual(0.0f, f[0].Offsets[0], 1e-9, "the borrowed array was not blended into");
            var held = ip.Sample(200);  // the stream stalls: the newest frame itself, its own stamp
            Assert.AreSame(frames[4], held);
            Assert.AreEqual(held.OffsetsStamp, ip.Sample(300).OffsetsStamp, "unchanged offsets keep their stamp");
        }

        [Test]
        public void UnderJitterAndGapsTheShownHandNeverOvershootsNorGoesBack()
        {
            // a hand moving along x at 0.3 m/s, captured at 30 fps; frames arrive 20-45 ms after capture (uniform
            // jitter, so some arrive out of order), frames 40-49 are lost (a 1/3 s gap); rendered at 90 Hz; at 102 s
            // the render delay is raised (the shown instant then waits instead of jumping back ~50 ms)
            var rng = new Random(7);
            var arrivals = new System.Collections.Generic.List<KeyValuePair<double, double>>();  // (local arrival, capture)
            for (int i = 0; i < 120; i++)
            {
                if (i >= 40 && i < 50) continue;
                double capture = i / 30.0;
                arrivals.Add(new KeyValuePair<double, double>(100 + capture + 0.02 + 0.025 * rng.NextDouble(), capture));
            }
            arrivals.Sort((a, b) => a.Key.CompareTo(b.Key));
            var ip = new PoseInterpolator();
            int next = 0;
            double newestX = double.NegativeInfinity, lastShown = double.NegativeInfinity, worstSteadyAge = 0, worstAge = 0;
            for (double now = 100; now < 104.5; now += 1 / 90.0)
            {
                for (; next < arrivals.Count && arrivals[next].Key <= now; next++)
                {
                    double capture = arrivals[next].Value;
                    ip.Add(capture, arrivals[next].Key, At(0.3 * capture, capture));
                    newestX = Math.Max(newestX, 0.3 * capture);
                }
                if (now >= 102.0 && ip.DelayFrames < 2) ip.DelayFrames = 2.8;  // a longer delay asked for mid-stream
                var s = ip.Sample(now);
                if (s == null) continue;
                Assert.LessOrEqual(s.Root.X, newestX + 1e-12, "never beyond the newest frame received (no overshoot)");
                Assert.GreaterOrEqual(s.Root.X, lastShown - 1e-12, "a hand moving one way is never shown going back");
                Assert.AreEqual(0.3 * ip.ShownTime, s.Root.X, 1e-9, "the pose shown is the one of the instant shown");
                lastShown = s.Root.X;
                double age = ip.ReceiveToRenderSeconds;
                Assert.GreaterOrEqual(age, 0.0);
                worstAge = Math.Max(worstAge, age);
                bool nearGap = now > 100 + 39 / 30.0 && now < 100 + 52 / 30.0;
                bool nearRaise = now >= 102.0 && now < 102.2;  // (the shown instant waits for the longer delay)
                if (now > 100.5 && now < 104.0 && !nearGap && !nearRaise)
                    worstSteadyAge = Math.Max(worstSteadyAge, age - ip.Delay);
            }
            // steady state: the pose shown lags the newest deliverable instant by the delay, plus at most the jitter
            // (a frame still on its way); never less than the delay
            Assert.LessOrEqual(worstSteadyAge, 0.025 + 1e-9, "receive-to-render age in steady state, beyond the delay");
            Assert.Greater(worstAge, 0.25, "a stall shows in the age (the gap was 1/3 s)");
            Assert.AreEqual(0.3 * 119 / 30.0, lastShown, 1e-9, "after the stream ends the newest frame is held");
        }

        [Test]
        public void ExtrapolatedFramesShowTheirLaterInstantAndAMeasuredFrameReplacesThem()
        {
            var ip = new PoseInterpolator();
            Assert.IsNull(ip.Sample(1.0));
            Assert.IsTrue(double.IsNaN(ip.ReceiveToRenderSeconds) && double.IsNaN(ip.NewestReceived));
            // x moves at 1 m/s; the backend moved frames 1 and 2 250 ms ahead along that motion, then sent frame 3 as
            // measured (after a gap its extrapolation is off): its instant (0.3) lies before frames 1 and 2's (0.35, 0.45)
            ip.Add(0.0, 10.0, At(0.0, 0.0));
            ip.Add(0.1, 10.1, At(0.35, 0.0), 0.25);
            ip.Add(0.2, 10.2, At(0.45, 0.0), 0.25);
            ip.Add(0.3, 10.3, At(0.3, 0.0), double.NaN);  // NaN extrapolation: as measured
            Assert.AreEqual(2, ip.Count, "the measured frame is kept; it replaces the predictions of later instants (0.35, 0.45)");
            var s = ip.Sample(double.PositiveInfinity);
            Assert.AreEqual(0.3, s.Root.X, 1e-12);
            Assert.IsTrue(double.IsNaN(ip.ReceiveToRenderSeconds), "no finite render time, no age");
            Assert.AreEqual(0.3, ip.ShownTime, 1e-12);
            Assert.AreSame(s, ip.Sample(double.NaN), "no time: the newest");
            Assert.AreEqual(0.3, ip.ShownTime, 1e-12, "and the shown instant untouched");
        }

        [Test]
        public void OutOfOrderFramesAreIgnored()
        {
            var ip = new PoseInterpolator();
            ip.Add(1.0, 10, At(0.1, 0));
            ip.Add(0.9, 10.01, At(0.2, 0));
            Assert.AreEqual(1, ip.Count);
        }

        [Test]
        public void FadesOutOnTrackingLossAndBackIn()
        {
            var f = new VisibilityFader { HoldSeconds = 0.1, FadeOutSeconds = 0.4, FadeInSeconds = 0.1 };
            f.Observe(true, 0);
            Assert.AreEqual(0.0, f.Update(0), 1e-9);    // starts invisible, fades in
            Assert.AreEqual(0.5, f.Update(0.05), 1e-9);
            f.Observe(true, 0.1);
            Assert.AreEqual(1.0, f.Update(0.1), 1e-9);
            Assert.AreEqual(1.0, f.Update(0.2), 1e-9);   // within the hold time
            Assert.AreEqual(0.75, f.Update(0.3), 1e-9);  // fading: 0.1 s of 0.4 s
            Assert.AreEqual(0.0, f.Update(1.0), 1e-9);
            f.Observe(true, 1.05);
            Assert.AreEqual(1.0, f.Update(1.1), 1e-9);
            f.Observe(false, 1.1);                        // an explicit "lost" starts the fade at once
            Assert.AreEqual(0.5, f.Update(1.3), 1e-9);
        }

        [Test]
        public void QuaternionBasics()
        {
            var q = Quatd.FromAxisAngle(0, 0, Math.PI / 2);
            var v = q.Rotate(new Vec3d(1, 0, 0));
            Assert.Less((v - new Vec3d(0, 1, 0)).Length, 1e-12);
            var l = Quatd.LookRotation(new Vec3d(1, 0, 0), new Vec3d(0, 1, 0));
            Assert.Less((l.Rotate(new Vec3d(0, 0, 1)) - new Vec3d(1, 0, 0)).Length, 1e-12);
            Assert.Less((l.Rotate(new Vec3d(0, 1, 0)) - new Vec3d(0, 1, 0)).Length, 1e-12);
            var ft = Quatd.FromTo(new Vec3d(1, 0, 0), new Vec3d(-1, 0, 0));
            Assert.Less((ft.Rotate(new Vec3d(1, 0, 0)) - new Vec3d(-1, 0, 0)).Length, 1e-9);
            Assert.AreEqual(Math.PI / 2, Quatd.Angle(Quatd.Identity, q), 1e-12);
        }
    

        static double Deg(double d) { return d * Math.PI / 180.0; }

        [Test]
        public void SwingTwistRecoversAKnownRollAndSwing()
        {
            var axis = new Vec3d(0, 0, 2);  // any length
            foreach (var rollDeg in new[] { -150.0, -50.0, 0.0, 35.0, 170.0 })
            foreach (var swingDeg in new[] { 0.0, 30.0, 80.0 })
            {
                var swing = Quatd.FromAxisAngle(Deg(swingDeg) * 0.6, Deg(swingDeg) * 0.8, 0);  // about an axis in x-y
                var twist = Quatd.FromAxisAngle(0, 0, Deg(rollDeg));
                var q = swing * twist;
                Quatd s, t;
                SwingTwist.Decompose(q, axis, out s, out t);
                string at = "roll " + rollDeg + ", swing " + swingDeg;
                Assert.AreEqual(Deg(rollDeg), SwingTwist.TwistAngle(q, axis), 1e-9, at);
                // (Quatd.Angle goes through acos: ~1e-8 rad of rounding near zero)
                Assert.Less(Quatd.Angle(s * t, q), 1e-6, at + ": swing * twist is the rotation");
                Assert.Less(Quatd.Angle(s, swing), 1e-6, at + ": the swing");
                Assert.AreEqual(0.0, Vec3d.Dot(new Vec3d(s.X, s.Y, s.Z), new Vec3d(0, 0, 1)), 1e-9, at + ": swing axis perpendicular");
                // a bone taking half the roll turns by half of it, about the axis, whatever the swing
                var half = SwingTwist.TwistShare(q, axis, 0.5);
                Assert.AreEqual(Deg(rollDeg) / 2, SwingTwist.TwistAngle(half, axis), 1e-9, at);
                Assert.Less(Quatd.Angle(half, Quatd.FromAxisAngle(0, 0, Deg(rollDeg) / 2)), 1e-6, at);
            }
        }

        [Test]
        public void SwingTwistEdgeCases()
        {
            var z = new Vec3d(0, 0, 1);
            Quatd s, t;
            SwingTwist.Decompose(Quatd.FromAxisAngle(Math.PI, 0, 0), z, out s, out t);  // a half-turn swing: no twist
            Assert.Less(Quatd.Angle(t, Quatd.Identity), 1e-6);
            Assert.AreEqual(0.0, SwingTwist.TwistAngle(Quatd.FromAxisAngle(0.7, -0.2, 0), z), 1e-9);  // pure swing
            Assert.AreEqual(-Deg(90), SwingTwist.TwistAngle(Quatd.FromAxisAngle(0, 0, -Deg(90)), z), 1e-9);  // sign
            Assert.AreEqual(Deg(90), SwingTwist.TwistAngle(Quatd.FromAxisAngle(0, 0, -Deg(90)), new Vec3d(0, 0, -1)), 1e-9);
        }
    }
}
