using System;
using RealHands.Core.Skinning;
using RealHands.Core.Tracking;
using RealHands.Core.Wire;
using UnityEngine;

namespace RealHands
{
    /// <summary>Drives the finger bones of a Humanoid avatar from the stream, for users with their own hand models.
    /// Each finger bone is swung so that it points where our keypoints say (the avatar's own bone lengths and twist
    /// are kept); the wrist is optionally rotated to the tracked hand's orientation, and the forearm takes a share of
    /// its roll (swing-twist: the roll about the forearm's axis, <see cref="SwingTwist"/>), so a turned wrist does not
    /// wring the avatar's skin. Runs after the Animator.</summary>
    [AddComponentMenu("RealHands/Hand Retargeter (Humanoid)")]
    [DefaultExecutionOrder(100)]
    public sealed class HandRetargeter : MonoBehaviour
    {
        public RealHandsClient client;
        public Animator animator;
        public Handedness handedness = Handedness.Right;
        [Tooltip("Also turn the avatar's hand to the tracked orientation (camera frame mapped through cameraAnchor).")]
        public bool driveWrist = true;
        [Tooltip("Where the tracking camera is in the scene (its transform's axes: x right, y up, z forward).")]
        public Transform cameraAnchor;
        [Range(0, 1)] public float weight = 1;
        [Tooltip("Share of the wrist's roll the forearm takes (0: none, the skin at the wrist twists; about 0.5 looks natural).")]
        [Range(0, 1)] public float forearmTwist = 0.5f;

        // per finger: Humanoid bones proximal -> distal, and our keypoints (MediaPipe order) from the bone to its child
        static readonly HumanBodyBones[][] RightBones =
        {
            new[] { HumanBodyBones.RightThumbProximal, HumanBodyBones.RightThumbIntermediate, HumanBodyBones.RightThumbDistal },
            new[] { HumanBodyBones.RightIndexProximal, HumanBodyBones.RightIndexIntermediate, HumanBodyBones.RightIndexDistal },
            new[] { HumanBodyBones.RightMiddleProximal, HumanBodyBones.RightMiddleIntermediate, HumanBodyBones.RightMiddleDistal },
            new[] { HumanBodyBones.RightRingProximal, HumanBodyBones.RightRingIntermediate, HumanBodyBones.RightRingDistal },
            new[] { HumanBodyBones.RightLittleProximal, HumanBodyBones.RightLittleIntermediate, HumanBodyBones.RightLittleDistal },
        };
        static readonly HumanBodyBones[][] LeftBones =
        {
            new[] { HumanBodyBones.LeftThumbProximal, HumanBodyBones.LeftThumbIntermediate, HumanBodyBones.LeftThumbDistal },
            new[] { HumanBodyBones.LeftIndexProximal, HumanBodyBones.LeftIndexIntermediate, HumanBodyBones.LeftIndexDistal },
            new[] { HumanBodyBones.LeftMiddleProximal, HumanBodyBones.LeftMiddleIntermediate, HumanBodyBones.LeftMiddleDistal },
            new[] { HumanBodyBones.LeftRingProximal, HumanBodyBones.LeftRingIntermediate, HumanBodyBones.LeftRingDistal },
            new[] { HumanBodyBones.LeftLittleProximal, HumanBodyBones.LeftLittleIntermediate, HumanBodyBones.LeftLittleDistal },
        };
        // thumb: Humanoid proximal = our CMC->MCP segment
        static readonly int[][] Keypoints =
        {
            new[] { 1, 2, 3, 4 }, new[] { 5, 6, 7, 8 }, new[] { 9, 10, 11, 12 }, new[] { 13, 14, 15, 16 }, new[] { 17, 18, 19, 20 },
        };

        float[] _joints;
        readonly Vector3[] _keypoints = new Vector3[21];
        Quaternion _wristOffset = Quaternion.identity;
        Quaternion _restRelative = Quaternion.identity;  // the avatar's hand relative to its forearm when calibrated
        Quaternion _forearmBefore, _forearmSet;           // the forearm's local rotation before and after our twist
        bool _calibrated, _twisted;

        void OnEnable()
        {
            if (client == null) client = FindObjectOfType<RealHandsClient>();
            if (animator == null) animator = GetComponent<Animator>();
            if (client == null || animator == null || !animator.isHuman)
            {
                Debug.LogError("RealHands: the Hand Retargeter needs a RealHandsClient in the scene and a Humanoid Animator", this);
                enabled = false;
                return;
            }
            client.FrameReceived += OnFrame;
        }

        void OnDisable()
        {
            if (client != null) client.FrameReceived -= OnFrame;
            UndoTwist();
        }

        /// <summary>Give the forearm back the rotation it had before our twist, unless the Animator has since set it.</summary>
        void UndoTwist()
        {
            var lower = animator == null ? null : animator.GetBoneTransform(handedness == Handedness.Right ? HumanBodyBones.RightLowerArm : HumanBodyBones.LeftLowerArm);
            if (lower != null && _twisted && Same(lower.localRotation, _forearmSet)) lower.localRotation = _forearmBefore;
            _twisted = false;
        }

        void OnFrame(FrameMessage frame)
        {
            var h = frame.Find(handedness);
            if (h == null || h.Tracking == TrackingState.Lost) return;
            if (_joints == null) _joints = new float[63];
            Array.Copy(h.Joints, _joints, 63);   // the frame is pooled: keep a copy
        }

        void LateUpdate()
        {
            if (_joints == null) return;
            var anchor = cameraAnchor != null ? cameraAnchor : transform;
            var k = _keypoints;
            for (int i = 0; i < 21; i++) k[i] = anchor.TransformPoint(new Vector3(_joints[3 * i], -_joints[3 * i + 1], _joints[3 * i + 2]));
            var hand = animator.GetBoneTransform(handedness == Handedness.Right ? HumanBodyBones.RightHand : HumanBodyBones.LeftHand);
            if (hand == null) return;

            if (!driveWrist) UndoTwist();
            if (driveWrist)
            {
                // our hand frame (forward: wrist -> middle knuckle, up: back of the hand) against the avatar's, measured once
                var ours = HandFrame(k[0], k[9], k[5], k[17]);
                var avatarBones = handedness == Handedness.Right ? RightBones : LeftBones;
                var mid = animator.GetBoneTransform(avatarBones[2][0]);
                var idx = animator.GetBoneTransform(avatarBones[1][0]);
                var lit = animator.GetBoneTransform(avatarBones[4][0]);
                if (mid != null && idx != null && lit != null)
                {
                    var lower = animator.GetBoneTransform(handedness == Handedness.Right ? HumanBodyBones.RightLowerArm : HumanBodyBones.LeftLowerArm);
                    UndoTwist();  // when no Animator reset the forearm since last frame
                    if (!_calibrated)
                    {
                        var theirs = HandFrame(hand.position, mid.position, idx.position, lit.position);
                        _wristOffset = Quaternion.Inverse(theirs) * hand.rotation;
                        if (lower != null) _restRelative = Quaternion.Inverse(lower.rotation) * hand.rotation;
                        _calibrated = true;
                    }
                    var target = Quaternion.Slerp(hand.rotation, ours * _wristOffset, weight);
                    if (lower != null && forearmTwist > 0)
                    {
                        // the hand's turn since calibration in the forearm's frame; its roll about the forearm's axis
                        var delta = Quaternion.Inverse(lower.rotation) * target * Quaternion.Inverse(_restRelative);
                        var axis = Quaternion.Inverse(lower.rotation) * (hand.position - lower.position);
                        var share = SwingTwist.TwistShare(ToD(delta), new Vec3d(axis.x, axis.y, axis.z), forearmTwist * weight);
                        _forearmBefore = lower.localRotation;
                        lower.localRotation = lower.localRotation * new Quaternion((float)share.X, (float)share.Y, (float)share.Z, (float)share.W);
                        _forearmSet = lower.localRotation;
                        _twisted = true;
                    }
                    hand.rotation = target;  // the hand keeps its tracked orientation; the forearm took part of the roll
                }
            }

            var bones = handedness == Handedness.Right ? RightBones : LeftBones;
            for (int f = 0; f < 5; f++)
            {
                for (int b = 0; b < 3; b++)
                {
                    var bone = animator.GetBoneTransform(bones[f][b]);
                    if (bone == null) continue;
                    var child = b < 2 ? animator.GetBoneTransform(bones[f][b + 1]) : (bone.childCount > 0 ? bone.GetChild(0) : null);
                    if (child == null) continue;
                    var current = child.position - bone.position;
                    var target = k[Keypoints[f][b + 1]] - k[Keypoints[f][b]];
                    if (current.sqrMagnitude < 1e-10f || target.sqrMagnitude < 1e-10f) continue;
                    var swing = Quaternion.FromToRotation(current, target);
                    bone.rotation = Quaternion.Slerp(bone.rotation, swing * bone.rotation, weight);
                }
            }
        }

        static Quatd ToD(Quaternion q) { return new Quatd(q.x, q.y, q.z, q.w); }

        static bool Same(Quaternion a, Quaternion b) { return a.x == b.x && a.y == b.y && a.z == b.z && a.w == b.w; }

        Quaternion HandFrame(Vector3 wrist, Vector3 middle, Vector3 index, Vector3 little)
        {
            var fwd = middle - wrist;
            var n = Vector3.Cross(index - wrist, little - wrist);
            var up = handedness == Handedness.Right ? n : -n;
            return Quaternion.LookRotation(fwd, up);
        }
    }
}
