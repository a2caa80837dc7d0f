using System;
using RealHands.Core.Skinning;
using RealHands.Core.Wire;

namespace RealHands.Core.Tracking
{
    /// <summary>The 26 OpenXR / XR Hands joints from our 21 keypoints, in Unity axes (left-handed, y up, metres).
    /// Order = XRHandJointID.ToIndex(): wrist, palm, thumb metacarpal/proximal/distal/tip, then index, middle, ring and
    /// little metacarpal/proximal/intermediate/distal/tip. Each joint's forward (+z) points along its bone towards the
    /// fingertip and its up (+y) out of the back of the hand, as XR Hands defines them.</summary>
    public static class XrHandJoints
    {
        public const int Count = 26;

        public static readonly string[] Names =
        {
            "Wrist", "Palm",
            "ThumbMetacarpal", "ThumbProximal", "ThumbDistal", "ThumbTip",
            "IndexMetacarpal", "IndexProximal", "IndexIntermediate", "IndexDistal", "IndexTip",
            "MiddleMetacarpal", "MiddleProximal", "MiddleIntermediate", "MiddleDistal", "MiddleTip",
            "RingMetacarpal", "RingProximal", "RingIntermediate", "RingDistal", "RingTip",
            "LittleMetacarpal", "LittleProximal", "LittleIntermediate", "LittleDistal", "LittleTip",
        };

        /// <summary>Where finger metacarpal joints sit between the wrist and the knuckle (they have no keypoint).</summary>
        public const double MetacarpalFraction = 0.25;

        // MediaPipe keypoints per finger (thumb: cmc, mcp, ip, tip; others: mcp, pip, dip, tip)
        static readonly int[][] Fingers =
        {
            new[] { 1, 2, 3, 4 }, new[] { 5, 6, 7, 8 }, new[] { 9, 10, 11, 12 }, new[] { 13, 14, 15, 16 }, new[] { 17, 18, 19, 20 },
        };

        /// <summary>Joint radii (metres) for a hand whose wrist-to-middle-knuckle length is 0.09 m; scaled by the hand's size.</summary>
        static readonly double[] BaseRadius = { 0.02, 0.015, 0.014, 0.011, 0.009, 0.008, 0.012, 0.01, 0.008, 0.007, 0.006 };

        /// <summary>Positions and rotations of the 26 joints from 21 keypoints (63 values, camera coordinates, OpenCV axes).</summary>
        public static void Compute(float[] keypointsOpenCv, Handedness side, Vec3d[] positions, Quatd[] rotations, double[] radii = null)
        {
            if (keypointsOpenCv == null || keypointsOpenCv.Length != 63) throw new ArgumentException("63 keypoint values expected");
            var k = _keypoints ?? (_keypoints = new Vec3d[21]);  // per thread, reused: no garbage per frame
            for (int i = 0; i < 21; i++) k[i] = Conventions.OpenCvToUnity(Vec3d.At(keypointsOpenCv, i));
            var wrist = k[0];
            var up = DorsalNormal(k, side);
            double scale = (k[9] - wrist).Length / 0.09;

            positions[0] = wrist;
            positions[1] = Vec3d.Lerp(wrist, k[9], 0.5);
            rotations[0] = Quatd.LookRotation(k[9] - wrist, up);
            rotations[1] = rotations[0];
            int n = 2;
            for (int f = 0; f < 5; f++)
            {
                int length = f == 0 ? 4 : 5;  // the thumb has no metacarpal joint of its own in XR Hands' layout
                for (int i = 0; i < length; i++)
                {
                    var here = ChainPoint(k, f, i);
                    var forward = i + 1 < length ? ChainPoint(k, f, i + 1) - here : here - ChainPoint(k, f, i - 1);
                    positions[n] = here;
                    rotations[n] = Quatd.LookRotation(forward, up);
                    if (radii != null) radii[n] = scale * BaseRadius[Math.Min(BaseRadius.Length - 1, 2 + i)];
                    n++;
                }
            }
            if (radii != null) { radii[0] = scale * BaseRadius[0]; radii[1] = scale * BaseRadius[1]; }
        }

        [ThreadStatic] static Vec3d[] _keypoints;

        /// <summary>Joint <paramref name="i"/> of finger <paramref name="f"/>'s chain: the thumb's four keypoints; the other
        /// fingers' metacarpal (MetacarpalFraction of the way from the wrist to the knuckle), then their four keypoints.</summary>
        static Vec3d ChainPoint(Vec3d[] k, int f, int i)
        {
            var kp = Fingers[f];
            if (f == 0) return k[kp[i]];
            return i == 0 ? Vec3d.Lerp(k[0], k[kp[0]], MetacarpalFraction) : k[kp[i - 1]];
        }

        /// <summary>Unit normal out of the back of the hand, Unity axes, from the wrist and the index and little knuckles.</summary>
        public static Vec3d DorsalNormal(Vec3d[] unityKeypoints, Handedness side)
        {
            var toIndex = unityKeypoints[5] - unityKeypoints[0];
            var toLittle = unityKeypoints[17] - unityKeypoints[0];
            // in a right-handed frame a right hand's back is along little x index; the y mirror into Unity's axes flips the
            // cross product's sign, and a left hand is the mirror image of a right one: flips it again
            var n = Vec3d.Cross(toIndex, toLittle);
            return (side == Handedness.Right ? n : -n).Normalized;
        }
    }
}
