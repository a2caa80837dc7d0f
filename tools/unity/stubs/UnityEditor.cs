// Type-check stand-in for UnityEditor (see README.md).
#pragma warning disable 1591
using System;

namespace UnityEditor
{
    public class Editor : UnityEngine.Object
    {
        public UnityEngine.Object target { get { return null; } }
        public virtual void OnInspectorGUI() { }
        public virtual bool RequiresConstantRepaint() { return false; }
        public bool DrawDefaultInspector() { return true; }
    }
    [AttributeUsage(AttributeTargets.Class)] public sealed class CustomEditor : Attribute { public CustomEditor(Type t) { } }
    [AttributeUsage(AttributeTargets.Method)] public sealed class MenuItem : Attribute { public MenuItem(string path, bool validate, int priority) { } }
    public enum MessageType { None, Info, Warning, Error }
    public static class EditorStyles { public static UnityEngine.GUIStyle boldLabel { get { return null; } } }
    public static class EditorGUILayout
    {
        public static void Space() { }
        public static void LabelField(string label, string text) { }
        public static void LabelField(string label, UnityEngine.GUIStyle style) { }
        public static void HelpBox(string message, MessageType type) { }
    }
    public static class Undo { public static void RegisterCreatedObjectUndo(UnityEngine.Object o, string name) { } }
    public static class Selection { public static UnityEngine.GameObject activeGameObject { get; set; } }
}
