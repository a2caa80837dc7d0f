using System;
using System.Collections.Generic;
using RealHands.Core.Transport;
using RealHands.Core.Wire;
using UnityEngine;

namespace RealHands
{
    /// <summary>Connects to the RealHands backend and hands its messages to the scene on the main thread.
    /// Receiving and decoding run on a background thread; here, once per frame, the newest frames, rigs and
    /// textures are taken and passed on. Connection state and stats show in the inspector.</summary>
    [AddComponentMenu("RealHands/RealHands Client")]
    [DisallowMultipleComponent]
    public sealed class RealHandsClient : MonoBehaviour
    {
        [Tooltip("The backend's ZeroMQ endpoint (realhands run --endpoint). Another machine: tcp://<its IP>:5555, and the backend in --lan mode.")]
        public string endpoint = "tcp://127.0.0.1:5555";
        [Tooltip("Seconds of silence (no heartbeat) before reconnecting.")]
        [Range(1, 30)] public float timeoutSeconds = 3;

        /// <summary>Every frame message, in order, on the main thread. The message is pooled: it is valid during the
        /// call only (the next frames are decoded into it), so copy what you keep (<see cref="HandState.CopyTo"/>).</summary>
        public event Action<FrameMessage> FrameReceived;
        /// <summary>A hand's rig arrived (at start, on a rig_version change).</summary>
        public event Action<RigMessage> RigReceived;
        /// <summary>A hand's texture atlas arrived, already decoded.</summary>
        public event Action<Handedness, Texture2D, int> TextureReceived;

        HandStreamClient _client;
        readonly List<FrameMessage> _batch = new List<FrameMessage>();
        readonly Texture2D[] _textures = new Texture2D[2];
        readonly int[] _textureVersions = { -1, -1 };

        public ClientStats Stats { get { return _client != null ? _client.Stats : new ClientStats { State = ConnectionState.Stopped, Endpoint = endpoint }; } }
        public StatsMessage BackendStats { get { return _client != null ? _client.LastBackendStats : null; } }
        public RigMessage LatestRig(Handedness side) { return _client != null ? _client.LatestRig(side) : null; }
        public Texture2D LatestTexture(Handedness side) { return _textures[(int)side]; }
        public int LatestTextureVersion(Handedness side) { return _textureVersions[(int)side]; }

        /// <summary>The clock frames are stamped with (seconds); use it for interpolation.</summary>
        public static double Now { get { return HandStreamClient.Now; } }

        void OnEnable()
        {
            try
            {
                _client = new HandStreamClient(endpoint) { TimeoutMs = Mathf.RoundToInt(timeoutSeconds * 1000) };
                _client.Start();
            }
            catch (ArgumentException e)
            {
                Debug.LogError("RealHands: " + e.Message, this);
                _client = null;
            }
        }

        void OnDisable()
        {
            if (_client != null) _client.Dispose();
            _client = null;
        }

        /// <summary>Reconnect to a new endpoint (e.g. from a settings menu).</summary>
        public void Connect(string newEndpoint)
        {
            OnDisable();
            endpoint = newEndpoint;
            if (isActiveAndEnabled) OnEnable();
        }

        /// <summary>Ask the backend to send the rigs again.</summary>
        public void RequestRig() { if (_client != null) _client.RequestRig(); }

        void Update()
        {
            var client = _client;   // a handler below may disable this component (OnDisable clears _client)
            if (client == null) return;
            foreach (var side in Sides)
            {
                var rig = client.TakeRig(side);
                if (rig != null && RigReceived != null) RigReceived(rig);
                var tex = client.TakeTexture(side);
                if (tex != null) ApplyTexture(tex);
            }
            _batch.Clear();
            client.TakeFrames(_batch);
            if (FrameReceived != null)
                foreach (var f in _batch)
                {
                    try { FrameReceived(f); }
                    catch (Exception e) { Debug.LogException(e, this); }   // one bad frame never stops the stream
                }
            client.ReturnFrames(_batch);   // decoded into again: no garbage per frame (to this client, even if a handler disabled us)
        }

        static readonly Handedness[] Sides = { Handedness.Right, Handedness.Left };

        void ApplyTexture(TextureMessage msg)
        {
            int i = (int)msg.Handedness;
            if (_textures[i] == null)
                _textures[i] = new Texture2D(2, 2, TextureFormat.RGB24, true) { name = "RealHands " + msg.Handedness + " hand", wrapMode = TextureWrapMode.Clamp };
            if (!_textures[i].LoadImage(msg.Data))
            {
                Debug.LogWarning("RealHands: could not decode a " + msg.Format + " texture of the " + msg.Handedness + " hand; keeping the last one", this);
                return;
            }
            _textureVersions[i] = msg.Version;
            if (TextureReceived != null) TextureReceived(msg.Handedness, _textures[i], msg.Version);
        }

        void OnDestroy()
        {
            foreach (var t in _textures) if (t != null) Destroy(t);
        }
    }
}
