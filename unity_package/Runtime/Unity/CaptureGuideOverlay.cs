using RealHands.Core.Transport;
using RealHands.Core.Wire;
using UnityEngine;

namespace RealHands
{
    /// <summary>Shows the backend's guided capture (realhands capture-hand) to the user: the instruction of the moment
    /// ("Turn your hand over: palm to the camera") and a bar per region of the hand (back, palm, sides) filling as
    /// the camera sees it well. Reads the stats heartbeat (wire 1.3: StatsMessage.CaptureStep, CaptureInstruction,
    /// CaptureProgress); draws nothing while no capture runs. Immediate-mode GUI, so it works in every render
    /// pipeline; for a VR headset, read the same fields from <see cref="RealHandsClient.BackendStats"/> into a
    /// world-space canvas.</summary>
    [AddComponentMenu("RealHands/Capture Guide Overlay")]
    public sealed class CaptureGuideOverlay : MonoBehaviour
    {
        static readonly string[] Regions = { "back", "palm", "sides" };

        [Tooltip("The RealHands Client whose backend runs the capture.")]
        public RealHandsClient client;
        [Tooltip("Top-left corner of the panel, in screen pixels.")]
        public Vector2 position = new Vector2(20, 20);
        [Tooltip("Panel width in screen pixels (at least 120).")]
        public float width = 360;

        /// <summary>The capture's step as last received: "back", "palm", "sides", "done", or empty (none runs).</summary>
        public string Step { get { var s = Stats; return s != null ? s.CaptureStep : ""; } }

        /// <summary>The backend's last heartbeat while it is receiving (a stopped backend's last capture is not shown).</summary>
        StatsMessage Stats
        {
            get { return client != null && client.Stats.State == ConnectionState.Receiving ? client.BackendStats : null; }
        }

        void OnGUI()
        {
            var s = Stats;
            if (s == null || !s.Capturing) return;
            float line = 22, y = position.y, w = Mathf.Max(width, 120);
            GUI.Box(new Rect(position.x - 8, y - 8, w + 16, line * (Regions.Length + 2) + 16), GUIContent.none);
            GUI.Label(new Rect(position.x, y, w, line), s.CaptureInstruction);
            y += line * 1.3f;
            foreach (var region in Regions)
            {
                double p;
                s.CaptureProgress.TryGetValue(region, out p);
                GUI.Label(new Rect(position.x, y, 60, line), region);
                var bar = new Rect(position.x + 64, y + 4, w - 64, line - 8);
                GUI.Box(bar, GUIContent.none);
                GUI.Box(new Rect(bar.x, bar.y, bar.width * Mathf.Clamp01((float)p), bar.height), GUIContent.none);
                y += line;
            }
        }
    }
}
