// Type-check stand-in for UnityEngine (see README.md). Bodies are empty on purpose.
#pragma warning disable 1591
using System;

namespace UnityEngine
{
    public class Object
    {
        public string name { get; set; }
        public static void Destroy(Object obj) { }
        public static T FindObjectOfType<T>() where T : Object { return null; }
        public static implicit operator bool(Object o) { return !ReferenceEquals(o, null); }
    }
    public class Component : Object
    {
        public Transform transform { get { return null; } }
        public GameObject gameObject { get { return null; } }
        public T GetComponent<T>() { return default(T); }
    }
    public class Behaviour : Component { public bool enabled { get; set; } public bool isActiveAndEnabled { get { return true; } } }
    public class MonoBehaviour : Behaviour { }
    public sealed class GameObject : Object
    {
        public GameObject(string name) { }
        public Transform transform { get { return null; } }
        public T AddComponent<T>() where T : Component { return null; }
        public T GetComponent<T>() { return default(T); }
        public void SetActive(bool value) { }
        public static GameObject CreatePrimitive(PrimitiveType type) { return null; }
    }
    public enum PrimitiveType { Sphere = 0, Capsule = 1, Cylinder = 2, Cube = 3, Plane = 4, Quad = 5 }
    public class Collider : Component { }
    public class Transform : Component, System.Collections.IEnumerable
    {
        public Vector3 localPosition { get; set; }
        public Quaternion localRotation { get; set; }
        public Vector3 localScale { get; set; }
        public Vector3 position { get; set; }
        public Quaternion rotation { get; set; }
        public Transform parent { get; set; }
        public int childCount { get { return 0; } }
        public Transform GetChild(int i) { return null; }
        public void SetParent(Transform p, bool worldPositionStays) { }
        public Vector3 TransformPoint(Vector3 p) { return p; }
        public System.Collections.IEnumerator GetEnumerator() { return null; }
    }
    public struct Vector2 { public float x, y; public Vector2(float x, float y) { this.x = x; this.y = y; } }
    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public static Vector3 zero { get { return new Vector3(); } }
        public float sqrMagnitude { get { return x * x + y * y + z * z; } }
        public static Vector3 Cross(Vector3 a, Vector3 b) { return a; }
        public static Vector3 operator +(Vector3 a, Vector3 b) { return a; }
        public static Vector3 operator -(Vector3 a, Vector3 b) { return a; }
        public static Vector3 operator -(Vector3 a) { return a; }
        public static Vector3 operator *(Vector3 a, float s) { return a; }
    }
    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
        public static Quaternion identity { get { return new Quaternion(0, 0, 0, 1); } }
        public static Quaternion Inverse(Quaternion q) { return q; }
        public static Quaternion Slerp(Quaternion a, Quaternion b, float t) { return a; }
        public static Quaternion FromToRotation(Vector3 a, Vector3 b) { return identity; }
        public static Quaternion LookRotation(Vector3 forward, Vector3 up) { return identity; }
        public static Quaternion operator *(Quaternion a, Quaternion b) { return a; }
        public static Vector3 operator *(Quaternion a, Vector3 v) { return v; }
    }
    public struct Pose
    {
        public Vector3 position; public Quaternion rotation;
        public Pose(Vector3 position, Quaternion rotation) { this.position = position; this.rotation = rotation; }
    }
    public struct Matrix4x4 { public static Matrix4x4 Translate(Vector3 v) { return new Matrix4x4(); } }
    public struct Color { public float r, g, b, a; }
    public struct BoneWeight
    {
        public int boneIndex0, boneIndex1, boneIndex2, boneIndex3;
        public float weight0, weight1, weight2, weight3;
    }
    public sealed class Mesh : Object
    {
        public Rendering.IndexFormat indexFormat { get; set; }
        public Vector3[] vertices { get; set; }
        public Vector3[] normals { get; set; }
        public Vector2[] uv { get; set; }
        public int[] triangles { get; set; }
        public BoneWeight[] boneWeights { get; set; }
        public Matrix4x4[] bindposes { get; set; }
        public void MarkDynamic() { }
        public void RecalculateNormals() { }
        public void RecalculateBounds() { }
    }
    public class Shader : Object
    {
        public static Shader Find(string name) { return null; }
        public bool isSupported { get { return true; } }
    }
    public class ScriptableObject : Object { }
    public static class Resources { public static T Load<T>(string path) where T : Object { return null; } }
    public class Texture : Object { public TextureWrapMode wrapMode { get; set; } }
    public enum TextureFormat { RGB24 = 3, RGBA32 = 4 }
    public enum TextureWrapMode { Repeat, Clamp }
    public sealed class Texture2D : Texture { public Texture2D(int w, int h, TextureFormat f, bool mipChain) { } }
    public static class ImageConversion { public static bool LoadImage(this Texture2D tex, byte[] data) { return true; } }
    public class Material : Object
    {
        public Material(Shader s) { }
        public Material(Material m) { }
        public void SetFloat(string name, float value) { }
        public void EnableKeyword(string keyword) { }
        public Texture mainTexture { get; set; }
        public Color color { get; set; }
    }
    public sealed class MaterialPropertyBlock { public void SetColor(string name, Color c) { } }
    public class Renderer : Component
    {
        public bool enabled { get; set; }
        public Material sharedMaterial { get; set; }
        public void GetPropertyBlock(MaterialPropertyBlock b) { }
        public void SetPropertyBlock(MaterialPropertyBlock b) { }
    }
    public class SkinnedMeshRenderer : Renderer
    {
        public Mesh sharedMesh { get; set; }
        public Transform[] bones { get; set; }
        public Transform rootBone { get; set; }
        public bool updateWhenOffscreen { get; set; }
    }
    public enum HumanBodyBones
    {
        LeftLowerArm = 15, RightLowerArm = 16, LeftHand = 17, RightHand = 18,
        LeftThumbProximal = 24, LeftThumbIntermediate, LeftThumbDistal, LeftIndexProximal, LeftIndexIntermediate, LeftIndexDistal,
        LeftMiddleProximal, LeftMiddleIntermediate, LeftMiddleDistal, LeftRingProximal, LeftRingIntermediate, LeftRingDistal,
        LeftLittleProximal, LeftLittleIntermediate, LeftLittleDistal,
        RightThumbProximal, RightThumbIntermediate, RightThumbDistal, RightIndexProximal, RightIndexIntermediate, RightIndexDistal,
        RightMiddleProximal, RightMiddleIntermediate, RightMiddleDistal, RightRingProximal, RightRingIntermediate, RightRingDistal,
        RightLittleProximal, RightLittleIntermediate, RightLittleDistal,
    }
    public class Animator : Behaviour
    {
        public bool isHuman { get { return true; } }
        public Transform GetBoneTransform(HumanBodyBones b) { return null; }
    }
    public static class Debug
    {
        public static void LogError(object m, Object ctx) { }
        public static void LogError(object m) { }
        public static void LogWarning(object m, Object ctx) { }
        public static void LogWarning(object m) { }
        public static void LogException(Exception e, Object ctx) { }
    }
    public static class Mathf
    {
        public static int RoundToInt(float f) { return (int)Math.Round(f); }
        public static float Max(float a, float b) { return a > b ? a : b; }
        public static float Clamp01(float value) { return value < 0 ? 0 : value > 1 ? 1 : value; }
    }
    public static class Application { public static bool isPlaying { get { return true; } } }
    public enum RuntimeInitializeLoadType { AfterSceneLoad, BeforeSceneLoad, AfterAssembliesLoaded, BeforeSplashScreen, SubsystemRegistration }
    [AttributeUsage(AttributeTargets.Method)] public sealed class RuntimeInitializeOnLoadMethodAttribute : Attribute { public RuntimeInitializeOnLoadMethodAttribute(RuntimeInitializeLoadType t) { } }
    [AttributeUsage(AttributeTargets.Class)] public sealed class AddComponentMenu : Attribute { public AddComponentMenu(string menu) { } }
    [AttributeUsage(AttributeTargets.Class)] public sealed class DisallowMultipleComponent : Attribute { }
    [AttributeUsage(AttributeTargets.Class)] public sealed class DefaultExecutionOrder : Attribute { public DefaultExecutionOrder(int order) { } }
    [AttributeUsage(AttributeTargets.Field)] public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string t) { } }
    [AttributeUsage(AttributeTargets.Field)] public sealed class RangeAttribute : Attribute { public RangeAttribute(float min, float max) { } }
    public class GUIStyle { }
    // Immediate-mode GUI (UnityCsReference: Runtime/Export/Geometry/Rect.cs, Modules/IMGUI/GUI.cs, GUIContent.cs)
    public struct Rect
    {
        public Rect(float x, float y, float width, float height) { this.x = x; this.y = y; this.width = width; this.height = height; }
        public float x { get; set; }
        public float y { get; set; }
        public float width { get; set; }
        public float height { get; set; }
    }
    public class GUIContent { public static GUIContent none = new GUIContent(); }
    public class GUI
    {
        public static void Label(Rect position, string text) { }
        public static void Box(Rect position, GUIContent content) { }
    }
}

namespace UnityEngine.Rendering
{
    public enum IndexFormat { UInt16, UInt32 }
    public abstract class RenderPipelineAsset : ScriptableObject { }
    public sealed class GraphicsSettings : Object { public static RenderPipelineAsset currentRenderPipeline { get { return null; } } }
}

// The subsystem types below follow the real declarations in Unity-Technologies/UnityCsReference
// Modules/Subsystems/{SubsystemProvider,SubsystemWithProvider,SubsystemDescriptorWithProvider,SubsystemManager}.cs
// (public members only, bodies empty).
namespace UnityEngine
{
    public interface ISubsystem { }
    public interface ISubsystemDescriptor { string id { get; } }
    public static class SubsystemManager
    {
        public static void GetSubsystemDescriptors<T>(System.Collections.Generic.List<T> descriptors) where T : ISubsystemDescriptor { }
        public static void GetSubsystems<T>(System.Collections.Generic.List<T> subsystems) where T : ISubsystem { }
    }
}

namespace UnityEngine.Scripting
{
    [AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum |
                    AttributeTargets.Constructor | AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field |
                    AttributeTargets.Event | AttributeTargets.Interface | AttributeTargets.Delegate, Inherited = false)]
    public class PreserveAttribute : Attribute { }
}

namespace UnityEngine.SubsystemsImplementation
{
    public abstract class SubsystemProvider { public bool running { get { return false; } } }
    public abstract class SubsystemProvider<TSubsystem> : SubsystemProvider where TSubsystem : SubsystemWithProvider, new()
    {
        protected internal virtual bool TryInitialize() { return true; }
        public abstract void Start();
        public abstract void Stop();
        public abstract void Destroy();
    }
    public abstract class SubsystemWithProvider : ISubsystem
    {
        public void Start() { }
        public void Stop() { }
        public void Destroy() { }
        public bool running { get { return false; } }
        protected abstract void OnStart();
        protected abstract void OnStop();
        protected abstract void OnDestroy();
    }
    public abstract class SubsystemWithProvider<TSubsystem, TSubsystemDescriptor, TProvider> : SubsystemWithProvider
        where TSubsystem : SubsystemWithProvider, new()
        where TSubsystemDescriptor : SubsystemDescriptorWithProvider
        where TProvider : SubsystemProvider<TSubsystem>
    {
        public TSubsystemDescriptor subsystemDescriptor { get { return null; } }
        protected internal TProvider provider { get { return null; } }
        protected virtual void OnCreate() { }
        protected override void OnStart() { }
        protected override void OnStop() { }
        protected override void OnDestroy() { }
    }
    public abstract class SubsystemDescriptorWithProvider : ISubsystemDescriptor
    {
        public string id { get; set; }
    }
    public class SubsystemDescriptorWithProvider<TSubsystem, TProvider> : SubsystemDescriptorWithProvider
        where TSubsystem : SubsystemWithProvider, new()
        where TProvider : SubsystemProvider<TSubsystem>
    {
        public TSubsystem Create() { return null; }
    }
}

namespace Unity.Collections
{
    public enum Allocator { Invalid, None, Temp, TempJob, Persistent }
    public struct NativeArray<T> : IDisposable where T : struct
    {
        public NativeArray(T[] array, Allocator allocator) { }
        public int Length { get { return 0; } }
        public T this[int index] { get { return default(T); } set { } }
        public void Dispose() { }
    }
}

namespace UnityEngine.TestTools
{
    [AttributeUsage(AttributeTargets.Method)] public sealed class UnityTestAttribute : Attribute { }
}
