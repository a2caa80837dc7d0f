// Type-check stand-in for com.unity.xr.hands 1.6 (see README.md). From the real package source
// (needle-mirror/com.unity.xr.hands): XRHandJointTrackingState from Runtime/Enums.cs (commit 92cb1f96),
// XRHandSubsystemDescriptor's base class from Runtime/XRHandSubsystemDescriptor.cs (c2cb869a), XRHandProviderUtility.SubsystemUpdater
// (constructor, Start, Stop, Destroy) from Runtime/XRHandProviderUtility.cs (b8667683); the rest from
// the API documentation.
#pragma warning disable 1591
using System;
using Unity.Collections;
using UnityEngine.SubsystemsImplementation;

namespace UnityEngine.XR.Hands
{
    public enum Handedness { Invalid, Left, Right }
    public enum XRHandJointID { Invalid = 0, BeginMarker = 1, Wrist = 1, Palm = 2, EndMarker = 27 }
    public static class XRHandJointIDUtility { public static XRHandJointID FromIndex(int index) { return (XRHandJointID)(index + 1); } }
    [Flags] public enum XRHandJointTrackingState { None = 0, Radius = 1 << 0, Pose = 1 << 1, LinearVelocity = 1 << 2, AngularVelocity = 1 << 3, WillNeverBeValid = 1 << 4, HighFidelityPose = 1 << 5 }
    public struct XRHandJoint { }
    public class XRHandSubsystem : SubsystemWithProvider<XRHandSubsystem, XRHandSubsystemDescriptor, ProviderImplementation.XRHandSubsystemProvider>
    {
        [Flags] public enum UpdateSuccessFlags { None = 0, LeftHandRootPose = 1, LeftHandJoints = 2, RightHandRootPose = 4, RightHandJoints = 8, All = 15 }
        public enum UpdateType { Dynamic, BeforeRender }
        public virtual UpdateSuccessFlags TryUpdateHands(UpdateType updateType) { return UpdateSuccessFlags.None; }
    }
    public class XRHandSubsystemDescriptor : SubsystemDescriptorWithProvider<XRHandSubsystem, ProviderImplementation.XRHandSubsystemProvider>
    {
        public struct Cinfo { public string id { get; set; } public Type providerType { get; set; } public Type subsystemTypeOverride { get; set; } }
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
        public virtual bool TryGetMeshData(ref Meshing.XRHandMeshDataQueryResult result, ref Meshing.XRHandMeshDataQueryParams queryParams) { return false; }
    }
    public static class XRHandProviderUtility
    {
        public static XRHandJoint CreateJoint(Handedness handedness, XRHandJointTrackingState trackingState, XRHandJointID id, Pose pose,
                                              float radius, Vector3 linearVelocity, Vector3 angularVelocity) { return new XRHandJoint(); }
        public class SubsystemUpdater
        {
            public SubsystemUpdater(XRHandSubsystem subsystem) { }
            public void Start() { }
            public void Stop() { }
            public void Destroy() { }
        }
    }
}

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
