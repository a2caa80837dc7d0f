// Typed messages of the wire format (shared_schema/WIRE.md). Positions are metres, camera coordinates with
// OpenCV axes (x right, y down, z forward) unless a field says otherwise; arrays are flattened row-major.
using System;
using System.Collections.Generic;

namespace RealHands.Core.Wire
{
    public enum Handedness { Right, Left }

    public enum TrackingState { Tracked, New, Lost }

    /// <summary>Base of every decoded message.</summary>
    public abstract class WireMessage
    {
        public int VersionMajor, VersionMinor;
        public abstract string Type { get; }
        /// <summary>When the client decoded it: HandStreamClient.Now, seconds (monotonic, local).</summary>
        public double ReceivedAt;
    }

    /// <summary>A hand's rig: the bind-pose mesh with this rig's shape, joints, skin weights and UVs (model space, metres).</summary>
    public sealed class RigMessage : WireMessage
    {
        public override string Type { get { return "rig"; } }
        public Handedness Handedness;
        public string ModelId;
        public int RigVersion;
        public int VertexCount;
        public int[] Faces;            // (F*3) vertex indices, counter-clockwise seen from outside
        public float[] Uv;             // (T*2), v up
        public int[] FacesUv;          // (F*3) indices into Uv
        public float[] RestVertices;   // (V*3)
        public float[] RestJoints;     // (16*3), MANO joint order
        public int[] JointParents;     // (16), -1 for the wrist
        public string[] JointNames;
        public float[] SkinWeights;    // (V*16), rows sum to 1
        public float[] Shape;          // (10) betas
        public string Units, ModelAxes, CameraAxes;

        public int FaceCount { get { return Faces.Length / 3; } }
        public int UvCount { get { return Uv.Length / 2; } }
    }

    /// <summary>One hand in a frame.</summary>
    public sealed class HandState
    {
        public Handedness Handedness;
        public double Confidence;
        public TrackingState Tracking;
        public int RigVersion;
        public float[] Pose;             // (48) axis-angle per MANO joint, relative to the parent, model axes
        public float[] Shape;            // (10)
        public float[] RootTranslation;  // (3) metres, camera coordinates, added after skinning
        public float[] Joints;           // (21*3) MediaPipe keypoint order, camera coordinates, metres
        public float[] VertexOffsets;    // (V*3) rest space, metres; empty when not sent
        public int TextureVersion;       // -1: none
        public bool Refined;
        public double ExtrapolatedMs;    // how far past the capture the pose was moved along the hand's motion; 0: as measured (wire 1.1)
        public int Views = 1;            // camera views the fit used: 2 = stereo (placement measured), 1 = one view (placement from the hand's size) (wire 1.2)
        public bool PoseHeld;            // MediaPipe read a mirrored hand this frame: articulation and orientation are the previous frame's, only the placement is new (wire 1.2)

        /// <summary>Copy every field into <paramref name="into"/> (a new state when null), reusing its arrays where
        /// the sizes match: how a component keeps a hand past the frame callback without garbage.</summary>
        public HandState CopyTo(HandState into)
        {
            var r = into ?? new HandState();
            r.Handedness = Handedness; r.Confidence = Confidence; r.Tracking = Tracking; r.RigVersion = RigVersion;
            r.Pose = Copy(Pose, r.Pose); r.Shape = Copy(Shape, r.Shape); r.RootTranslation = Copy(RootTranslation, r.RootTranslation);
            r.Joints = Copy(Joints, r.Joints); r.VertexOffsets = Copy(VertexOffsets, r.VertexOffsets);
            r.TextureVersion = TextureVersion; r.Refined = Refined; r.ExtrapolatedMs = ExtrapolatedMs; r.Views = Views; r.PoseHeld = PoseHeld;
            return r;
        }

        static float[] Copy(float[] from, float[] into)
        {
            if (from == null) return null;
            if (into == null || into.Length != from.Length) into = new float[from.Length];
            Array.Copy(from, into, from.Length);
            return into;
        }
    }

    /// <summary>Every processed camera frame (also without hands). A frame from <see cref="RealHands.Core.Transport.HandStreamClient"/>
    /// is pooled: it is valid until it is handed back (RealHandsClient hands each back after its FrameReceived event),
    /// so a component that keeps a hand past that copies it (<see cref="HandState.CopyTo"/>).</summary>
    public sealed class FrameMessage : WireMessage
    {
        public override string Type { get { return "frame"; } }
        public long Seq, SourceFrame, CaptureNs, PublishNs;
        public List<HandState> Hands = new List<HandState>();
        readonly List<HandState> _spare = new List<HandState>();

        /// <summary>Move the hands into the spares, for the next decode into this message to reuse.</summary>
        internal void ReleaseHands()
        {
            for (int i = 0; i < Hands.Count; i++) _spare.Add(Hands[i]);
            Hands.Clear();
        }

        /// <summary>A spare hand state (its arrays kept for reuse), or a new one.</summary>
        internal HandState RentHand()
        {
            if (_spare.Count == 0) return new HandState();
            var h = _spare[_spare.Count - 1];
            _spare.RemoveAt(_spare.Count - 1);
            return h;
        }

        public HandState Find(Handedness side)
        {
            foreach (var h in Hands) if (h.Handedness == side) return h;
            return null;
        }
    }

    /// <summary>A hand's texture atlas (JPEG or PNG), laid out on the rig's UVs.</summary>
    public sealed class TextureMessage : WireMessage
    {
        public override string Type { get { return "texture"; } }
        public Handedness Handedness;
        public int Version, Width, Height;
        public string Format;
        public byte[] Data;
    }

    /// <summary>The once-a-second heartbeat.</summary>
    public sealed class StatsMessage : WireMessage
    {
        public override string Type { get { return "stats"; } }
        public long PublishNs, Frames, Dropped;
        public double UptimeS, Fps;
        public Dictionary<string, double> StageMs = new Dictionary<string, double>();
        public Dictionary<string, double> LatencyMs = new Dictionary<string, double>();  // capture to publish, "p50" and "p95" (wire 1.1)
        public string Source;
        /// <summary>The guided capture (wire 1.3; empty when none runs): the region to show next ("back", "palm",
        /// "sides") or "done", the sentence to show the user, and per region 0..1 of its target plus "coverage".</summary>
        public string CaptureStep = "", CaptureInstruction = "";
        public Dictionary<string, double> CaptureProgress = new Dictionary<string, double>();
        public bool Capturing { get { return CaptureStep.Length > 0; } }
    }

    /// <summary>A message is malformed, truncated, of another major version or of an unknown type.</summary>
    public sealed class WireException : Exception
    {
        public WireException(string message) : base(message) { }
    }
}
