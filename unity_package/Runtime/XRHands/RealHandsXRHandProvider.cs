// XR Hands provider: any app built on com.unity.xr.hands gets the RealHands hands, unchanged. Compiled only when
// com.unity.xr.hands is installed (asmdef version defines: REALHANDS_XR_HANDS from 1.1, REALHANDS_XR_HANDS_MESH from 1.6).
#if REALHANDS_XR_HANDS
using RealHands.Core.Skinning;
using RealHands.Core.Tracking;
using RealHands.Core.Wire;
using Unity.Collections;
using UnityEngine;
using UnityEngine.Scripting;
using UnityEngine.XR.Hands;
using UnityEngine.XR.Hands.ProviderImplementation;
#if REALHANDS_XR_HANDS_MESH
using UnityEngine.XR.Hands.Meshing;
using UnityEngine.XR.Hands.Meshing.ProviderImplementation;
#endif

namespace RealHands.XRHands
{
    /// <summary>An XRHandSubsystem provider fed by a <see cref="RealHandsXRHandsBridge"/>: the 26 joints of each hand
    /// (from our 21 keypoints, metacarpals interpolated) and, on XR Hands 1.6+, the skinned hand mesh. The subsystem
    /// creates it by reflection from the descriptor registered below, so it is kept from code stripping
    /// (<c>[Preserve]</c>: IL2CPP player builds would otherwise remove a type nothing references).</summary>
    [Preserve]
    public sealed class RealHandsXRHandProvider : XRHandSubsystemProvider
    {
        public const string Id = "RealHands";

        [Preserve]
        public RealHandsXRHandProvider() { }

        [RuntimeInitializeOnLoadMethod(RuntimeInitializeLoadType.SubsystemRegistration)]
        static void Register()
        {
            XRHandSubsystemDescriptor.Register(new XRHandSubsystemDescriptor.Cinfo
            {
                id = Id,
                providerType = typeof(RealHandsXRHandProvider),
                subsystemTypeOverride = typeof(XRHandSubsystem),
            });
        }

        readonly Vector3d3 _scratch = new Vector3d3();

        public override void Start() { }
        public override void Stop() { }
        public override void Destroy() { }

        public override void GetHandLayout(NativeArray<bool> handJointsInLayout)
        {
            for (int i = 0; i < XrHandJoints.Count && i < handJointsInLayout.Length; i++) handJointsInLayout[i] = true;
        }

        public override XRHandSubsystem.UpdateSuccessFlags TryUpdateHands(XRHandSubsystem.UpdateType updateType,
            ref Pose leftHandRootPose, NativeArray<XRHandJoint> leftHandJoints,
            ref Pose rightHandRootPose, NativeArray<XRHandJoint> rightHandJoints)
        {
            var flags = XRHandSubsystem.UpdateSuccessFlags.None;
            var bridge = RealHandsXRHandsBridge.Active;
            if (bridge == null) return flags;
            if (Fill(bridge, Core.Wire.Handedness.Left, ref leftHandRootPose, leftHandJoints))
                flags |= XRHandSubsystem.UpdateSuccessFlags.LeftHandRootPose | XRHandSubsystem.UpdateSuccessFlags.LeftHandJoints;
            if (Fill(bridge, Core.Wire.Handedness.Right, ref rightHandRootPose, rightHandJoints))
                flags |= XRHandSubsystem.UpdateSuccessFlags.RightHandRootPose | XRHandSubsystem.UpdateSuccessFlags.RightHandJoints;
            return flags;
        }

        bool Fill(RealHandsXRHandsBridge bridge, Core.Wire.Handedness side, ref Pose root, NativeArray<XRHandJoint> joints)
        {
            float[] keypoints;
            if (!bridge.TryGetKeypoints(side, out keypoints)) return false;
            XrHandJoints.Compute(keypoints, side, _scratch.Positions, _scratch.Rotations, _scratch.Radii);
            var anchor = bridge.AnchorPose;
            var xrSide = side == Core.Wire.Handedness.Left ? UnityEngine.XR.Hands.Handedness.Left : UnityEngine.XR.Hands.Handedness.Right;
            for (int i = 0; i < XrHandJoints.Count && i < joints.Length; i++)
            {
                var p = _scratch.Positions[i];
                var q = _scratch.Rotations[i];
                var pose = new Pose(anchor.position + anchor.rotation * new Vector3((float)p.X, (float)p.Y, (float)p.Z),
                                    anchor.rotation * new Quaternion((float)q.X, (float)q.Y, (float)q.Z, (float)q.W));
                if (i == 0) root = pose;
                joints[i] = XRHandProviderUtility.CreateJoint(xrSide, XRHandJointTrackingState.Pose | XRHandJointTrackingState.Radius,
                                                              XRHandJointIDUtility.FromIndex(i), pose, (float)_scratch.Radii[i],
                                                              Vector3.zero, Vector3.zero);
            }
            return true;
        }

#if REALHANDS_XR_HANDS_MESH
        public override bool TryGetMeshData(ref XRHandMeshDataQueryResult result, ref XRHandMeshDataQueryParams queryParams)
        {
            var bridge = RealHandsXRHandsBridge.Active;
            if (bridge == null) return false;
            bool any = false;
            foreach (var side in new[] { Core.Wire.Handedness.Left, Core.Wire.Handedness.Right })
            {
                Vector3[] positions, normals; Vector2[] uvs; int[] indices;
                if (!bridge.TryGetMesh(side, out positions, out normals, out uvs, out indices)) continue;
                var data = side == Core.Wire.Handedness.Left ? result.leftHand : result.rightHand;
                data.SetPositions(new NativeArray<Vector3>(positions, queryParams.allocator));
                data.SetNormals(new NativeArray<Vector3>(normals, queryParams.allocator));
                data.SetUVs(new NativeArray<Vector2>(uvs, queryParams.allocator));
                data.SetIndices(new NativeArray<int>(indices, queryParams.allocator));
                result.FlushChanges(data);
                any = true;
            }
            return any;
        }
#endif

        sealed class Vector3d3
        {
            public readonly Vec3d[] Positions = new Vec3d[XrHandJoints.Count];
            public readonly Quatd[] Rotations = new Quatd[XrHandJoints.Count];
            public readonly double[] Radii = new double[XrHandJoints.Count];
        }
    }
}
#endif
