// The wire format's field table (shared_schema/wire.json, v1.1). The C# tests check it against wire.json.
namespace RealHands.Core.Wire
{
    public enum FieldType { Int, Float, Str, Bool, Array, Blob, StrList, HandList, StrFloatMap }

    /// <summary>One field of a message: its type, and for arrays the dtype and shape (-1: any length).</summary>
    public sealed class FieldSpec
    {
        public readonly string Name;
        public readonly FieldType Type;
        public readonly string Dtype;
        public readonly int[] Shape;
        public readonly string[] Enum;
        /// <summary>The minor version that added the field (0: the field is as old as the major version). A reader
        /// fills in the field's default when an older writer leaves an added field out.</summary>
        public readonly int SinceMinor;

        public FieldSpec(string name, FieldType type, string dtype = null, int[] shape = null, string[] enumValues = null, int sinceMinor = 0)
        {
            Name = name; Type = type; Dtype = dtype; Shape = shape; Enum = enumValues; SinceMinor = sinceMinor;
        }

        public bool Optional { get { return SinceMinor > 0; } }
    }

    public static class WireSpec
    {
        public const int Major = 1;
        public const int Minor = 3;

        public const string RigTopic = "rh.rig";
        public const string FrameTopic = "rh.frame";
        public const string TextureTopic = "rh.texture";
        public const string StatsTopic = "rh.stats";

        public static readonly string[] DTypes = { "<f4", "<f2", "<u4", "<u2", "<i4", "<u1" };

        static readonly string[] Sides = { "right", "left" };
        const int Any = -1;

        static FieldSpec Arr(string name, string dtype, params int[] shape) { return new FieldSpec(name, FieldType.Array, dtype, shape); }

        public static readonly FieldSpec[] Rig =
        {
            new FieldSpec("handedness", FieldType.Str, enumValues: Sides),
            new FieldSpec("model_id", FieldType.Str),
            new FieldSpec("rig_version", FieldType.Int),
            new FieldSpec("vertex_count", FieldType.Int),
            Arr("faces", "<u4", Any, 3),
            Arr("uv", "<f4", Any, 2),
            Arr("faces_uv", "<u4", Any, 3),
            Arr("rest_vertices", "<f4", Any, 3),
            Arr("rest_joints", "<f4", 16, 3),
            Arr("joint_parents", "<i4", 16),
            new FieldSpec("joint_names", FieldType.StrList),
            Arr("skin_weights", "<f4", Any, 16),
            Arr("shape", "<f4", 10),
            new FieldSpec("units", FieldType.Str),
            new FieldSpec("model_axes", FieldType.Str),
            new FieldSpec("camera_axes", FieldType.Str),
        };

        public static readonly FieldSpec[] Frame =
        {
            new FieldSpec("seq", FieldType.Int),
            new FieldSpec("source_frame", FieldType.Int),
            new FieldSpec("capture_ns", FieldType.Int),
            new FieldSpec("publish_ns", FieldType.Int),
            new FieldSpec("hands", FieldType.HandList),
        };

        public static readonly FieldSpec[] Hand =
        {
            new FieldSpec("handedness", FieldType.Str, enumValues: Sides),
            new FieldSpec("confidence", FieldType.Float),
            new FieldSpec("tracking", FieldType.Str, enumValues: new[] { "tracked", "new", "lost" }),
            new FieldSpec("rig_version", FieldType.Int),
            Arr("pose", "<f4", 48),
            Arr("shape", "<f4", 10),
            Arr("root_translation", "<f4", 3),
            Arr("joints", "<f4", 21, 3),
            Arr("vertex_offsets", "<f2", Any, 3),
            new FieldSpec("texture_version", FieldType.Int),
            new FieldSpec("refined", FieldType.Bool),
            new FieldSpec("extrapolated_ms", FieldType.Float, sinceMinor: 1),
            new FieldSpec("views", FieldType.Int, sinceMinor: 2),
            new FieldSpec("pose_held", FieldType.Bool, sinceMinor: 2),
        };

        public static readonly FieldSpec[] Texture =
        {
            new FieldSpec("handedness", FieldType.Str, enumValues: Sides),
            new FieldSpec("version", FieldType.Int),
            new FieldSpec("format", FieldType.Str, enumValues: new[] { "jpeg", "png" }),
            new FieldSpec("width", FieldType.Int),
            new FieldSpec("height", FieldType.Int),
            new FieldSpec("data", FieldType.Blob),
        };

        public static readonly FieldSpec[] Stats =
        {
            new FieldSpec("publish_ns", FieldType.Int),
            new FieldSpec("uptime_s", FieldType.Float),
            new FieldSpec("frames", FieldType.Int),
            new FieldSpec("dropped", FieldType.Int),
            new FieldSpec("fps", FieldType.Float),
            new FieldSpec("stage_ms", FieldType.StrFloatMap),
            new FieldSpec("source", FieldType.Str),
            new FieldSpec("latency_ms", FieldType.StrFloatMap, sinceMinor: 1),
            new FieldSpec("capture_step", FieldType.Str, sinceMinor: 3),
            new FieldSpec("capture_instruction", FieldType.Str, sinceMinor: 3),
            new FieldSpec("capture_progress", FieldType.StrFloatMap, sinceMinor: 3),
        };

        /// <summary>The message type carried on a topic ("rig", "frame", "texture", "stats"), or null.</summary>
        public static string TypeOfTopic(string topic)
        {
            switch (topic)
            {
                case RigTopic: return "rig";
                case FrameTopic: return "frame";
                case TextureTopic: return "texture";
                case StatsTopic: return "stats";
                default: return null;
            }
        }

        public static FieldSpec[] FieldsOf(string type)
        {
            switch (type)
            {
                case "rig": return Rig;
                case "frame": return Frame;
                case "texture": return Texture;
                case "stats": return Stats;
                default: return null;
            }
        }
    }
}
