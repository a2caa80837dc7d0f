using RealHands.Core.Transport;
using UnityEditor;
using UnityEngine;

namespace RealHands.Editor
{
    /// <summary>Shows the client's connection state and stream stats live in the inspector.</summary>
    [CustomEditor(typeof(RealHandsClient))]
    public sealed class RealHandsClientEditor : UnityEditor.Editor
    {
        public override bool RequiresConstantRepaint() { return Application.isPlaying; }

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var client = (RealHandsClient)target;
            if (!Application.isPlaying) { EditorGUILayout.HelpBox("Connection state and stats show here in Play mode.", MessageType.None); return; }
            var s = client.Stats;
            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Connection", EditorStyles.boldLabel);
            EditorGUILayout.LabelField("State", s.State.ToString());
            EditorGUILayout.LabelField("Frames / rigs / textures", s.Frames + " / " + s.Rigs + " / " + s.Textures);
            EditorGUILayout.LabelField("Backend fps", s.BackendFps.ToString("F1"));
            EditorGUILayout.LabelField("Latency (publish to here)", s.LatencyMs.ToString("F1") + " ms (max " + s.LatencyMsMax.ToString("F1") + ")");
            EditorGUILayout.LabelField("Dropped: gaps / superseded / malformed", s.SeqGaps + " / " + s.Superseded + " / " + s.DecodeErrors);
            EditorGUILayout.LabelField("Reconnects", s.Reconnects.ToString());
            EditorGUILayout.LabelField("Received", (s.BytesReceived / 1048576.0).ToString("F1") + " MiB");
            if (!string.IsNullOrEmpty(s.LastError))
                EditorGUILayout.HelpBox(s.LastError, s.State == ConnectionState.Receiving ? MessageType.Info : MessageType.Warning);
            if (s.State != ConnectionState.Receiving && s.Frames == 0)
                EditorGUILayout.HelpBox("Nothing received yet. Is the backend running (realhands run)? See Documentation~/troubleshooting.md.", MessageType.Info);
        }
    }

    static class RealHandsMenu
    {
        [MenuItem("GameObject/RealHands/Live Hands (client + both hands)", false, 10)]
        static void CreateLiveHands()
        {
            var root = new GameObject("RealHands");
            var client = root.AddComponent<RealHandsClient>();
            var camera = new GameObject("Tracking Camera");
            camera.transform.SetParent(root.transform, false);
            foreach (var side in new[] { Core.Wire.Handedness.Right, Core.Wire.Handedness.Left })
            {
                var go = new GameObject(side + " Hand");
                go.transform.SetParent(camera.transform, false);
                var avatar = go.AddComponent<HandAvatar>();
                avatar.client = client;
                avatar.handedness = side;
            }
            Undo.RegisterCreatedObjectUndo(root, "Create RealHands");
            Selection.activeGameObject = root;
        }
    }
}
