// Type-check stand-in for com.unity.xr.hands (see README.md), compiled once per supported version: no define is
// 1.1, XR_HANDS_1_5 adds what 1.5 added, XR_HANDS_1_5 + XR_HANDS_1_6 is 1.6 (tools/unity/harness.py, XR_HANDS_VERSIONS).
// Every declaration below was read in the real package source (the mirror needle-mirror/com.unity.xr.hands; version
// from package.json at each commit):
// - XRHandJointTrackingState, XRHandJointID, XRHandJointIDUtility: Runtime/Enums.cs at d18cea43 (1.1.0-pre.2),
//   c2cb869a (1.5.0-pre.4), a1bb5283 (1.6.0-pre.2); HighFidelityPose from 1.5.
// - XRHandSubsystem (UpdateSuccessFlags, UpdateType, TryUpdateHands): Runtime/XRHandSubsystem.cs at 1878b52a (1.1.0),
//   c2cb869a (1.5.0-pre.4), 0a9d28d7 (1.6.0-pre.1).
// - XRHandSubsystemDescriptor and Cinfo (id, providerType, subsystemTypeOverride; 1.5 adds supports* flags):
//   Runtime/XRHandSubsystemDescriptor.cs at ac3f259b (1.4.3), c2cb869a (1.5.0-pre.4); 1.1 per its API documentation.
// - XRHandSubsystemProvider (GetHandLayout, TryUpdateHands; TryGetMeshData from 1.6): Runtime/XRHandSubsystemProvider.cs
//   at c2cb869a (1.5.0-pre.4), d7d9f3bf (1.6.0); 1.1 from Tests/Runtime/TestHandProvider.cs at 1878b52a (1.1.0).
// - XRHand (GetJoint, rootPose, handedness, isTracked), XRHandJoint.TryGetPose, XRHandSubsystem.leftHand/rightHand:
//   Runtime/XRHand.cs, Runtime/XRHandJoint.cs, Runtime/XRHandSubsystem.cs at 1878b52a (1.1.0); the same members in
//   the later versions' XRHandSubsystem.cs (leftHand => GetHand(Handedness.Left)).
// - XRHandProviderUtility.CreateJoint (Handedness first, from 1.1.0) and SubsystemUpdater (every version):
//   Runtime/XRHandProviderUtility.cs at c5f7e38c (1.1.0-pre.3), b8667683 (1.4.0), d7d9f3bf (1.6.0).
// - Meshing (from 1.6.0-pre.1): Runtime/Meshing/*.cs at 0a9d28d7.
#pragma warning disable 1591
using System;
using Unity.Collections;
using UnityEngine.SubsystemsImplementation;

namespace UnityEngine.XR.Hands
{
    public enum Handedness { Invalid, Left, Right }
    public enum XRHandJointID { Invalid = 0, BeginMarker = 1, Wrist = 1, Palm = 2, EndMarker = 27 }
    public static class XRHandJointIDUtility { public static XRHandJointID FromIndex(int index) { return (XRHandJointID)(index + 1); } }
    [Flags] public enum XRHandJointTrackingState
    {
        None = 0, Radius = 1 << 0, Pose = 1 << 1, LinearVelocity = 1 << 2, AngularVelocity = 1 << 3, WillNeverBeValid = 1 << 4,
#if XR_HANDS_1_5
        HighFidelityPose = 1 << 5,
#endif
    }
    public struct XRHandJoint
    {
        public bool TryGetPose(out Pose pose) { pose = new Pose(); return false; }
    }
    public struct XRHand
    {
        public XRHandJoint GetJoint(XRHandJointID id) { return new XRHandJoint(); }
        public Pose rootPose { get { return new Pose(); } }
        public Handedness handedness { get { return Handedness.Invalid; } }
        public bool isTracked { get { return false; } }
    }
    public class XRHandSubsystem : SubsystemWithProvider<XRHandSubsystem, XRHandSubsystemDescriptor, ProviderImplementation.XRHandSubsystemProvider>
    {
        [Flags] public enum UpdateSuccessFlags { None = 0, LeftHandRootPose = 1, LeftHandJoints = 2, RightHandRootPose = 4, RightHandJoints = 8, All = 15 }
        public enum UpdateType { Dynamic, BeforeRender }
        public virtual UpdateSuccessFlags TryUpdateHands(UpdateType updateType) { return UpdateSuccessFlags.None; }
        public XRHand leftHand { get { return new XRHand(); } }
        public XRHand rightHand { get { return new XRHand(); } }
    }
    public class XRHandSubsystemDescriptor : SubsystemDescriptorWithProvider<XRHandSubsystem, ProviderImplementation.XRHandSubsystemProvider>
    {
        public struct Cinfo
        {
            public string id { get; set; }
            public Type providerType { get; set; }
            public Type subsystemTypeOverride { get; set; }
#if XR_HANDS_1_5
            public bool supportsAimPose { get; set; }
            public bool supportsAimActivateValue { get; set; }
            public bool supportsGraspValue { get; set; }
            public bool supportsGripPose { get; set; }
            public bool supportsPinchPose { get; set; }
            public bool supportsPinchValue { get; set; }
            public bool supportsPokePose { get; set; }
#endif
        }
        public static void Register(Cinfo info) { }
    }
}

namespace UnityEngine.XR.Hands.ProviderImplementation
{
    public abstract class XRHandSubsystemProvider : SubsystemProvider<XRHandSubsystem>
    {
        public abstract void GetHandLayout(NativeArray<bool> handJointsInLayout);
        public abstract XRHandSubsystem.UpdateSuccessFlags TryUpdateHands(XRHandSubsystem.UpdateType updateType,
            ref Pose leftHandRootPose, NativeArray<XRHandJoint> leftHandJoints, ref Pose rightHandRootPose, NativeArray<XRHandJoint> rightHandJoints);
#if XR_HANDS_1_6
        public virtual bool TryGetMeshData(ref Meshing.XRHandMeshDataQueryResult result, ref Meshing.XRHandMeshDataQueryParams queryParams) { return false; }
#endif
    }
    public static class XRHandProviderUtility
    {
        public static XRHandJoint CreateJoint(Handedness handedness, XRHandJointTrackingState trackingState, XRHandJointID id, Pose pose,
                                              float radius = 0f, Vector3 linearVelocity = new Vector3(),
                                              Vector3 angularVelocity = new Vector3()) { return new XRHandJoint(); }
        public class SubsystemUpdater
        {
            public SubsystemUpdater(XRHandSubsystem subsystem) { }
            public void Start() { }
            public void Stop() { }
            public void Destroy() { }
        }
    }
}

#if XR_HANDS_1_6
namespace UnityEngine.XR.Hands.Meshing
{
    // The real SetX/FlushChanges are `this ref` extension methods (ProviderImplementation namespace); mcs cannot declare
    // those, so the stand-in makes them instance methods: the call syntax is the same.
    public struct XRHandMeshData : IDisposable
    {
        public void Dispose() { }
        public void SetPositions(NativeArray<Vector3> a) { }
        public void SetNormals(NativeArray<Vector3> a) { }
        public void SetUVs(NativeArray<Vector2> a) { }
        public void SetIndices(NativeArray<int> a) { }
    }
    public struct XRHandMeshDataQueryParams { public Allocator allocator; }
    public struct XRHandMeshDataQueryResult : IDisposable
    {
        public XRHandMeshData leftHand { get { return new XRHandMeshData(); } }
        public XRHandMeshData rightHand { get { return new XRHandMeshData(); } }
        public void Dispose() { }
        public void FlushChanges(XRHandMeshData d) { }
    }
}

namespace UnityEngine.XR.Hands.Meshing.ProviderImplementation
{
    internal static class Placeholder { }
}
#endif
