using RealHands.Core.Skinning;
using RealHands.Core.Tracking;
using RealHands.Core.Wire;
using UnityEngine;
using UnityEngine.Rendering;

namespace RealHands
{
    /// <summary>The user's own hand: a SkinnedMeshRenderer built from the backend's rig (bones, bind poses, the 4
    /// strongest weights, UVs), posed every rendered frame from the stream, interpolated between backend frames,
    /// textured with the live atlas, and faded out when tracking is lost. Place it where the tracking camera is
    /// in the scene: its transform is the camera (x right, y up, z forward).</summary>
    [AddComponentMenu("RealHands/Hand Avatar")]
    public sealed class HandAvatar : MonoBehaviour
    {
        public RealHandsClient client;
        public Handedness handedness = Handedness.Right;
        [Tooltip("Material for the hand; its colour's alpha fades the hand. Empty: the skin material (SkinMaterial).")]
        public Material material;
        [Tooltip("Render between backend frames at display rate (adds about one camera frame of delay).")]
        public bool interpolate = true;
        public bool applyVertexOffsets = true;
        public bool applyTexture = true;
        [Range(0, 2)] public float fadeOutSeconds = 0.4f;

        /// <summary>World-space bone transforms, MANO joint order (wrist first); null until a rig arrived.</summary>
        public Transform[] Bones { get; private set; }
        public HandRig Rig { get; private set; }
        public double Opacity { get { return _fader.Opacity; } }
        /// <summary>Milliseconds the pose rendered this frame lags the newest data that could have arrived by now
        /// (PoseInterpolator.ReceiveToRenderSeconds): the interpolation's delay in steady state (about 1.2 camera
        /// frames), more while the stream stalls; without interpolation, the time since the newest frame arrived; NaN
        /// before the first frame. Add the client's publish-to-decode latency (RealHandsClient stats) and the
        /// backend's capture-to-publish latency (its stats message) for the camera-to-screen path.</summary>
        public double ReceiveToRenderMs { get; private set; } = double.NaN;

        readonly PoseInterpolator _interpolator = new PoseInterpolator();
        readonly VisibilityFader _fader = new VisibilityFader();
        SkinnedMeshRenderer _renderer;
        Mesh _mesh;
        RenderMesh _layout;
        Transform _root;
        Vector3[] _positions;
        float[] _restPlusOffsets;
        long _lastOffsets = -1;  // the OffsetsStamp of the offsets last uploaded
        MaterialPropertyBlock _block;
        bool _subscribed;

        void OnEnable()
        {
            if (client == null) client = FindObjectOfType<RealHandsClient>();
            if (client == null) { Debug.LogError("RealHands: no RealHandsClient in the scene for " + name, this); return; }
            client.RigReceived += OnRig;
            client.FrameReceived += OnFrame;
            client.TextureReceived += OnTexture;
            _subscribed = true;
            var rig = client.LatestRig(handedness);
            if (rig != null) OnRig(rig);
            var tex = client.LatestTexture(handedness);
            if (tex != null) OnTexture(handedness, tex, client.LatestTextureVersion(handedness));
        }

        void OnDisable()
        {
            if (!_subscribed) return;
            client.RigReceived -= OnRig;
            client.FrameReceived -= OnFrame;
            client.TextureReceived -= OnTexture;
            _subscribed = false;
        }

        void OnRig(RigMessage msg)
        {
            if (msg.Handedness != handedness) return;
            if (Rig != null && Rig.Version == msg.RigVersion && Rig.VertexCount == msg.VertexCount) return;
            Rig = new HandRig(msg);
            Build();
        }

        void OnFrame(FrameMessage frame)
        {
            var hand = frame.Find(handedness);
            double now = RealHandsClient.Now;
            if (hand == null || hand.Tracking == TrackingState.Lost) { _fader.Observe(false, now); return; }
            if (Rig != null && hand.RigVersion != Rig.Version) client.RequestRig();
            if (hand.Tracking == TrackingState.New) _interpolator.Clear();
            _interpolator.Add(frame.CaptureNs * 1e-9, frame.ReceivedAt, hand, hand.ExtrapolatedMs * 1e-3);  // copied: the frame is pooled
            _fader.Observe(true, now);
        }

        void OnTexture(Handedness side, Texture2D texture, int version)
        {
            if (side != handedness || !applyTexture || _renderer == null) return;
            _renderer.sharedMaterial.mainTexture = texture;
        }

        /// <summary>Bones under a root (the camera-space hand origin), the render mesh and its bind poses.</summary>
        void Build()
        {
            if (_root != null) Destroy(_root.gameObject);
            _root = new GameObject("RealHands " + handedness + " hand").transform;
            _root.SetParent(transform, false);
            Bones = new Transform[HandRig.JointCount];
            var names = Rig.Message.JointNames;
            var bind = new Matrix4x4[HandRig.JointCount];
            for (int j = 0; j < HandRig.JointCount; j++)
            {
                var b = new GameObject(j < names.Length ? names[j] : "joint" + j).transform;
                int p = Rig.Parents[j];
                b.SetParent(p < 0 ? _root : Bones[p], false);
                var rest = ToUnity(Rig.RestJoints[j]);
                b.localPosition = p < 0 ? rest : rest - ToUnity(Rig.RestJoints[p]);
                b.localRotation = Quaternion.identity;
                Bones[j] = b;
                bind[j] = Matrix4x4.Translate(-rest);   // rest rotations are identity: the inverse bone matrix is a translation
            }

            _layout = RenderMesh.Build(Rig);
            var top = Rig.TopFour();
            int n = _layout.Count;
            var weights = new BoneWeight[n];
            var uv = new Vector2[n];
            for (int i = 0; i < n; i++)
            {
                int v = 4 * _layout.SourceVertex[i];
                weights[i] = new BoneWeight
                {
                    boneIndex0 = top.Joint[v], weight0 = top.Weight[v], boneIndex1 = top.Joint[v + 1], weight1 = top.Weight[v + 1],
                    boneIndex2 = top.Joint[v + 2], weight2 = top.Weight[v + 2], boneIndex3 = top.Joint[v + 3], weight3 = top.Weight[v + 3],
                };
                uv[i] = new Vector2(_layout.Uv[2 * i], _layout.Uv[2 * i + 1]);
            }
            _positions = new Vector3[n];
            _restPlusOffsets = (float[])Rig.RestVertices.Clone();
            _lastOffsets = -1;
            if (_mesh != null) Destroy(_mesh);
            _mesh = new Mesh { name = "RealHands " + handedness + " v" + Rig.Version, indexFormat = n > 65535 ? IndexFormat.UInt32 : IndexFormat.UInt16 };
            _mesh.MarkDynamic();
            SetRestVertices(Rig.RestVertices);
            _mesh.uv = uv;
            _mesh.triangles = _layout.Triangles;
            _mesh.boneWeights = weights;
            _mesh.bindposes = bind;
            _mesh.RecalculateNormals();
            _mesh.RecalculateBounds();

            _renderer = _root.gameObject.AddComponent<SkinnedMeshRenderer>();
            _renderer.sharedMesh = _mesh;
            _renderer.bones = Bones;
            _renderer.rootBone = Bones[0];
            _renderer.updateWhenOffscreen = true;
            _renderer.sharedMaterial = material != null ? new Material(material) : SkinMaterial.Create();
            _block = new MaterialPropertyBlock();
            var tex = client != null ? client.LatestTexture(handedness) : null;
            if (tex != null && applyTexture) _renderer.sharedMaterial.mainTexture = tex;
            _renderer.enabled = false;
        }

        void SetRestVertices(float[] restModelSpace)
        {
            var gathered = _layout.Gather(restModelSpace);
            for (int i = 0; i < _positions.Length; i++) _positions[i] = new Vector3(gathered[3 * i], -gathered[3 * i + 1], gathered[3 * i + 2]);
            _mesh.vertices = _positions;
        }

        static Vector3 ToUnity(Vec3d p) { return new Vector3((float)p.X, (float)-p.Y, (float)p.Z); }

        static Quaternion ToUnity(Quatd q) { return new Quaternion((float)-q.X, (float)q.Y, (float)-q.Z, (float)q.W); }

        void LateUpdate()
        {
            if (Rig == null || _renderer == null) return;
            double now = RealHandsClient.Now;
            var sample = _interpolator.Sample(interpolate ? now : double.PositiveInfinity);
            ReceiveToRenderMs = 1000.0 * (interpolate ? _interpolator.ReceiveToRenderSeconds : now - _interpolator.NewestReceived);
            _fader.FadeOutSeconds = fadeOutSeconds;
            double opacity = _fader.Update(now);
            _renderer.enabled = sample != null && opacity > 0;
            if (!_renderer.enabled) return;

            _root.localPosition = ToUnity(sample.Root);
            for (int j = 0; j < HandRig.JointCount; j++) Bones[j].localRotation = ToUnity(sample.Local[j]);
            if (applyVertexOffsets && sample.RigVersion == Rig.Version && sample.Offsets.Length == 3 * Rig.VertexCount && sample.OffsetsStamp != _lastOffsets)
            {
                for (int i = 0; i < _restPlusOffsets.Length; i++) _restPlusOffsets[i] = Rig.RestVertices[i] + sample.Offsets[i];
                SetRestVertices(_restPlusOffsets);
                _mesh.RecalculateNormals();
                _lastOffsets = sample.OffsetsStamp;
            }
            _renderer.GetPropertyBlock(_block);
            var c = _renderer.sharedMaterial.color;
            c.a = (float)opacity;
            _block.SetColor("_Color", c);
            _block.SetColor("_BaseColor", c);
            _renderer.SetPropertyBlock(_block);
        }

        void OnDestroy()
        {
            if (_mesh != null) Destroy(_mesh);
            if (_renderer != null) Destroy(_renderer.sharedMaterial);
        }
    }
}
