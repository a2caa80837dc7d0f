#if REALHANDS_XR_HANDS
using System.Collections.Generic;
using UnityEngine;
using UnityEngine.XR.Hands;

namespace RealHands.Samples
{
    /// <summary>What an XR Hands app sees: a small sphere on each joint of the first running XRHandSubsystem (the
    /// RealHands XR Hands Bridge runs one), in the XR Origin's session space (its Camera Offset); a hand's spheres hide
    /// while it is not tracked. Uses nothing of RealHands: any XR Hands consumer reads the same data.</summary>
    [AddComponentMenu("RealHands/Samples/XR Hand Joint Dots")]
    public sealed class XRHandJointDots : MonoBehaviour
    {
        [Tooltip("The XR Origin's Camera Offset: XR Hands poses are relative to it.")]
        public Transform sessionSpace;
        [Tooltip("Sphere diameter, metres.")]
        public float diameter = 0.012f;

        readonly List<XRHandSubsystem> _subsystems = new List<XRHandSubsystem>();
        GameObject[] _left, _right;

        void Update()
        {
            SubsystemManager.GetSubsystems(_subsystems);
            XRHandSubsystem running = null;
            for (int i = 0; i < _subsystems.Count && running == null; i++)
                if (_subsystems[i].running) running = _subsystems[i];
            Show(running, true, ref _left);
            Show(running, false, ref _right);
        }

        void Show(XRHandSubsystem subsystem, bool left, ref GameObject[] dots)
        {
            int count = XRHandJointID.EndMarker - XRHandJointID.BeginMarker;
            if (dots == null)
            {
                dots = new GameObject[count];
                for (int i = 0; i < count; i++)
                {
                    var dot = GameObject.CreatePrimitive(PrimitiveType.Sphere);
                    Destroy(dot.GetComponent<Collider>());
                    dot.name = (left ? "Left " : "Right ") + XRHandJointIDUtility.FromIndex(i);
                    dot.transform.SetParent(sessionSpace != null ? sessionSpace : transform, false);
                    dot.transform.localScale = new Vector3(diameter, diameter, diameter);
                    dots[i] = dot;
                }
            }
            bool tracked = false;
            XRHand hand = default(XRHand);
            if (subsystem != null)
            {
                hand = left ? subsystem.leftHand : subsystem.rightHand;
                tracked = hand.isTracked;
            }
            for (int i = 0; i < count; i++)
            {
                Pose pose = default(Pose);
                bool show = tracked && hand.GetJoint(XRHandJointIDUtility.FromIndex(i)).TryGetPose(out pose);
                if (show) dots[i].transform.localPosition = pose.position;
                dots[i].SetActive(show);
            }
        }

        void OnDestroy()
        {
            foreach (var dots in new[] { _left, _right })
                if (dots != null) foreach (var dot in dots) if (dot != null) Destroy(dot);
        }
    }
}
#endif
