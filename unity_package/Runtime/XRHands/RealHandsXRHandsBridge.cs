#if REALHANDS_XR_HANDS
using System.Collections.Generic;
using RealHands.Core.Skinning;
using RealHands.Core.Wire;
using UnityEngine;
using XRHandSubsystem = UnityEngine.XR.Hands.XRHandSubsystem;
using XRHandSubsystemDescriptor = UnityEngine.XR.Hands.XRHandSubsystemDescriptor;
using XRHandProviderUtility = UnityEngine.XR.Hands.ProviderImplementation.XRHandProviderUtility;

namespace RealHands.XRHands
{
    /// <summary>Feeds the RealHands XR Hands provider from a RealHandsClient, and runs the XR Hands subsystem it
    /// provides: creates it from the RealHands descriptor, starts it with XR Hands' own updater (which calls
    /// <c>TryUpdateHands</c> every frame and before rendering, so apps see hands update), stops it when disabled and
    /// destroys it with this component. Put it on a child of the XR Origin's <b>Camera Offset</b> that stands where the
    /// RealHands camera is relative to the tracking origin (for a camera on the headset: under the Main Camera): XR Hands
    /// poses are in session space, the Camera Offset's space, and joint poses are this transform's pose in that space
    /// composed with the camera-space hand.</summary>
    [AddComponentMenu("RealHands/XR Hands Bridge")]
    public sealed class RealHandsXRHandsBridge : MonoBehaviour
    {
        public static RealHandsXRHandsBridge Active { get; private set; }

        public RealHandsClient client;
        [Tooltip("Also supply the skinned hand mesh (XR Hands 1.6+).")]
        public bool provideMesh = true;
        [Tooltip("Create and run the RealHands XR Hands subsystem (off: another component manages XR Hands subsystems).")]
        public bool runSubsystem = true;
        [Tooltip("The XR Origin's Camera Offset: XR Hands poses are in its space (session space). Empty: this object's parent.")]
        public Transform sessionSpace;

        /// <summary>The XR Hands subsystem this bridge runs (null until enabled, or with runSubsystem off).</summary>
        public XRHandSubsystem Subsystem { get { return _subsystem; } }

        XRHandSubsystem _subsystem;
        XRHandProviderUtility.SubsystemUpdater _updater;

        readonly float[][] _keypoints = new float[2][];
        readonly HandState[] _hands = new HandState[2];
        readonly HandState[] _own = new HandState[2];
        // per side: the rig message the cached rig, render layout and scratch mesh were built from (rebuilt only
        // when a new rig arrives, not every frame)
        readonly RigMessage[] _builtFrom = new RigMessage[2];
        readonly HandRig[] _rigs = new HandRig[2];
        readonly RenderMesh[] _layouts = new RenderMesh[2];
        readonly Mesh[] _scratch = new Mesh[2];
        float[] _skinned;

        /// <summary>Where camera-space hands go: this transform's pose in session space (relative to
        /// <see cref="sessionSpace"/>, else to its parent).</summary>
        public Pose AnchorPose
        {
            get
            {
                if (sessionSpace == null) return new Pose(transform.localPosition, transform.localRotation);
                var inv = Quaternion.Inverse(sessionSpace.rotation);
                return new Pose(inv * (transform.position - sessionSpace.position), inv * transform.rotation);
            }
        }

        void OnEnable()
        {
            if (client == null) client = FindObjectOfType<RealHandsClient>();
            if (client == null) { Debug.LogError("RealHands: the XR Hands bridge needs a RealHandsClient", this); enabled = false; return; }
            client.FrameReceived += OnFrame;
            Active = this;
            if (runSubsystem) StartSubsystem();
        }

        void OnDisable()
        {
            if (client != null) client.FrameReceived -= OnFrame;
            if (Active == this) Active = null;
            if (_updater != null) _updater.Stop();
            if (_subsystem != null) _subsystem.Stop();
        }

        void OnDestroy()
        {
            foreach (var m in _scratch) if (m != null) Destroy(m);
            if (_updater != null) _updater.Destroy();
            if (_subsystem != null) _subsystem.Destroy();
            _updater = null;
            _subsystem = null;
        }

        /// <summary>Create (once) and start the RealHands XR Hands subsystem and its per-frame updater.</summary>
        void StartSubsystem()
        {
            if (_subsystem == null)
            {
                var descriptors = new List<XRHandSubsystemDescriptor>();
                SubsystemManager.GetSubsystemDescriptors(descriptors);
                foreach (var d in descriptors)
                    if (d.id == RealHandsXRHandProvider.Id) { _subsystem = d.Create(); break; }
                if (_subsystem == null)
                {
                    Debug.LogError("RealHands: the RealHands XR Hands subsystem descriptor is not registered (is com.unity.xr.hands 1.1+ installed?)", this);
                    return;
                }
                _updater = new XRHandProviderUtility.SubsystemUpdater(_subsystem);
            }
            _subsystem.Start();
            _updater.Start();
        }

        void OnFrame(FrameMessage frame)
        {
            for (int s = 0; s < 2; s++)
            {
                var h = frame.Find((Handedness)s);
                bool tracked = h != null && h.Tracking != TrackingState.Lost;
                // the frame is pooled (decoded into again after this call): keep copies, in buffers reused per side
                _own[s] = tracked ? h.CopyTo(_own[s]) : _own[s];
                _keypoints[s] = tracked ? _own[s].Joints : null;
                _hands[s] = tracked ? _own[s] : null;
            }
        }

        public bool TryGetKeypoints(Handedness side, out float[] keypoints)
        {
            keypoints = _keypoints[(int)side];
            return keypoints != null;
        }

        /// <summary>The skinned mesh of a hand in the anchor's parent space (Unity axes), or false.</summary>
        public bool TryGetMesh(Handedness side, out Vector3[] positions, out Vector3[] normals, out Vector2[] uvs, out int[] indices)
        {
            positions = normals = null; uvs = null; indices = null;
            var hand = _hands[(int)side];
            var msg = client.LatestRig(side);
            if (!provideMesh || hand == null || msg == null || msg.RigVersion != hand.RigVersion) return false;
            int k = (int)side;
            if (_builtFrom[k] != msg)
            {
                _rigs[k] = new HandRig(msg);
                _layouts[k] = RenderMesh.Build(_rigs[k]);
                if (_scratch[k] == null) _scratch[k] = new Mesh();
                _builtFrom[k] = msg;
            }
            var rig = _rigs[k];
            var layout = _layouts[k];
            _skinned = rig.Skin(hand, _skinned);
            var skinned = layout.Gather(_skinned);
            var anchor = AnchorPose;
            positions = new Vector3[layout.Count];
            uvs = new Vector2[layout.Count];
            for (int i = 0; i < layout.Count; i++)
            {
                positions[i] = anchor.position + anchor.rotation * new Vector3(skinned[3 * i], -skinned[3 * i + 1], skinned[3 * i + 2]);
                uvs[i] = new Vector2(layout.Uv[2 * i], layout.Uv[2 * i + 1]);
            }
            indices = layout.Triangles;
            var mesh = _scratch[k];
            mesh.triangles = new int[0];
            mesh.vertices = positions;
            mesh.triangles = indices;
            mesh.RecalculateNormals();
            normals = mesh.normals;
            return true;
        }
    }
}
#endif
