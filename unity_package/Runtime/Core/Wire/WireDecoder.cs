using System;
using System.Collections.Generic;
using System.Text;

namespace RealHands.Core.Wire
{
    /// <summary>Decodes a received multipart message ([topic, msgpack header, blobs...]) into a typed message,
    /// validating it against the wire spec. Decode throws WireException; TryDecode never throws.
    /// Decoding a frame message into a <c>reuse</c> message (HandStreamClient pools them) makes no garbage in steady
    /// state: the parsed header's values, the field tables and the hands' arrays are all reused.</summary>
    public static class WireDecoder
    {
        public static WireMessage Decode(IList<byte[]> frames) { return Decode(frames, null); }

        /// <summary>Decode; a frame message is written into <paramref name="reuse"/> when given (its hands and their
        /// arrays are reused where the sizes match), any other type into a new message. On an error the contents of
        /// <paramref name="reuse"/> are undefined (decode into it again, or drop it).</summary>
        public static WireMessage Decode(IList<byte[]> frames, FrameMessage reuse)
        {
            if (frames == null || frames.Count < 2)
                throw new WireException("a message has at least 2 frames (topic, header), got " + (frames == null ? 0 : frames.Count));
            for (int i = 0; i < frames.Count; i++)
                if (frames[i] == null) throw new WireException("frame " + i + " is missing");
            string topic = KnownTopic(frames[0]);
            string type = topic == null ? null : WireSpec.TypeOfTopic(topic);
            if (type == null)
                throw new WireException("unknown topic '" + Printable(frames[0]) + "'; known: rh.rig, rh.frame, rh.texture, rh.stats");
            var scratch = Scratch.ForThisThread();
            MsgValue header;
            try { header = MsgPackReader.Parse(frames[1], 0, frames[1].Length, scratch.Arena); }
            catch (MsgPackException e) { throw new WireException("header of a " + type + " message is not valid msgpack (" + e.Message + "); truncated?"); }
            if (header.Kind != MsgKind.Map) throw new WireException("header of a " + type + " message is a " + header.Kind + ", not a map");
            var v = header.Get("v");
            if (v == null || v.Kind != MsgKind.Array || v.Array.Count != 2 || v.Array[0].Kind != MsgKind.Int || v.Array[1].Kind != MsgKind.Int)
                throw new WireException(type + " message without a valid version field 'v' ([major, minor])");
            int major = (int)v.Array[0].Int, minor = (int)v.Array[1].Int;
            if (major != WireSpec.Major)
                throw new WireException("wire format version " + major + "." + minor + " is not compatible with this reader's " +
                                        WireSpec.Major + "." + WireSpec.Minor + " (major versions differ): update the older side");
            var t = header.Get("type");
            if (t == null || t.Kind != MsgKind.Str || t.Str != type)
                throw new WireException("topic " + topic + " carries a message of type " + (t == null ? "(none)" : t.ToString()));

            var f = scratch.Fields(header, frames, type, -1, WireSpec.FieldsOf(type));
            WireMessage msg;
            switch (type)
            {
                case "rig": msg = Rig(f); break;
                case "frame": msg = Frame(f, frames, scratch, reuse); break;
                case "texture": msg = Texture(f); break;
                default: msg = Stats(f); break;
            }
            msg.VersionMajor = major;
            msg.VersionMinor = minor;
            return msg;
        }

        /// <summary>Decode without throwing: false and a reason for anything malformed.</summary>
        public static bool TryDecode(IList<byte[]> frames, out WireMessage message, out string error)
        {
            return TryDecode(frames, null, out message, out error);
        }

        /// <summary><see cref="TryDecode(IList{byte[]}, out WireMessage, out string)"/> into a reused frame message.</summary>
        public static bool TryDecode(IList<byte[]> frames, FrameMessage reuse, out WireMessage message, out string error)
        {
            try
            {
                message = Decode(frames, reuse);
                error = null;
                return true;
            }
            catch (Exception e)  // WireException, and anything unforeseen: a bad message must never escape
            {
                message = null;
                error = e is WireException ? e.Message : e.GetType().Name + ": " + e.Message;
                return false;
            }
        }

        static RigMessage Rig(Fields f)
        {
            var m = new RigMessage
            {
                Handedness = f.Side("handedness"), ModelId = f.Str("model_id"), RigVersion = f.Int32("rig_version"),
                VertexCount = f.Int32("vertex_count"), Faces = f.Ints("faces"), Uv = f.Floats("uv"),
                FacesUv = f.Ints("faces_uv"), RestVertices = f.Floats("rest_vertices"), RestJoints = f.Floats("rest_joints"),
                JointParents = f.Ints("joint_parents"), JointNames = f.StrList("joint_names"),
                SkinWeights = f.Floats("skin_weights"), Shape = f.Floats("shape"), Units = f.Str("units"),
                ModelAxes = f.Str("model_axes"), CameraAxes = f.Str("camera_axes"),
            };
            int V = m.VertexCount;
            if (V < 0) throw new WireException("rig.vertex_count is negative");
            if (m.RestVertices.Length != V * 3) throw new WireException("rig.rest_vertices has " + m.RestVertices.Length / 3 + " rows, vertex_count is " + V);
            if (m.SkinWeights.Length != V * 16) throw new WireException("rig.skin_weights has " + m.SkinWeights.Length / 16 + " rows, vertex_count is " + V);
            foreach (int i in m.Faces) if (i >= V) throw new WireException("rig.faces index a vertex beyond vertex_count");
            if (m.FacesUv.Length != m.Faces.Length) throw new WireException("rig.faces_uv and rig.faces differ in length");
            foreach (int i in m.FacesUv) if (i >= m.UvCount) throw new WireException("rig.faces_uv index a uv beyond the uv array");
            for (int j = 0; j < 16; j++)
                if (m.JointParents[j] >= j || m.JointParents[j] < -1 || (j == 0) != (m.JointParents[j] == -1))
                    throw new WireException("rig.joint_parents must list each joint after its parent, the wrist (-1) first");
            return m;
        }

        static FrameMessage Frame(Fields f, IList<byte[]> frames, Scratch scratch, FrameMessage reuse)
        {
            var m = reuse ?? new FrameMessage();
            m.ReceivedAt = 0;
            m.Seq = f.Int("seq");
            m.SourceFrame = f.Int("source_frame");
            m.CaptureNs = f.Int("capture_ns");
            m.PublishNs = f.Int("publish_ns");
            m.ReleaseHands();
            var hands = f.Raw("hands");
            if (hands.Kind != MsgKind.Array) throw new WireException("frame.hands: expected a list, got " + hands.Kind);
            for (int i = 0; i < hands.Array.Count; i++)
            {
                var h = scratch.Fields(hands.Array[i], frames, "frame.hands", i, WireSpec.Hand);
                var s = m.RentHand();
                s.Handedness = h.Side("handedness");
                s.Confidence = h.Double("confidence");
                s.RigVersion = h.Int32("rig_version");
                s.Pose = h.Floats("pose", s.Pose);
                s.Shape = h.Floats("shape", s.Shape);
                s.RootTranslation = h.Floats("root_translation", s.RootTranslation);
                s.Joints = h.Floats("joints", s.Joints);
                s.VertexOffsets = h.Floats("vertex_offsets", s.VertexOffsets);
                s.TextureVersion = h.Int32("texture_version");
                s.Refined = h.Bool("refined");
                s.ExtrapolatedMs = h.Has("extrapolated_ms") ? h.Double("extrapolated_ms") : 0.0;
                s.Views = h.Has("views") ? h.Int32("views") : 1;
                s.PoseHeld = h.Has("pose_held") && h.Bool("pose_held");
                string tr = h.Str("tracking");
                s.Tracking = tr == "new" ? TrackingState.New : tr == "lost" ? TrackingState.Lost : TrackingState.Tracked;
                m.Hands.Add(s);
            }
            return m;
        }

        static TextureMessage Texture(Fields f)
        {
            var m = new TextureMessage
            {
                Handedness = f.Side("handedness"), Version = f.Int32("version"), Format = f.Str("format"),
                Width = f.Int32("width"), Height = f.Int32("height"),
            };
            var seg = f.Blob("data");
            m.Data = new byte[seg.Count];
            Buffer.BlockCopy(seg.Array, seg.Offset, m.Data, 0, seg.Count);
            return m;
        }

        static StatsMessage Stats(Fields f)
        {
            var m = new StatsMessage
            {
                PublishNs = f.Int("publish_ns"), UptimeS = f.Double("uptime_s"), Frames = f.Int("frames"),
                Dropped = f.Int("dropped"), Fps = f.Double("fps"), Source = f.Str("source"),
            };
            foreach (var kv in f.Raw("stage_ms").Map) m.StageMs[kv.Key] = kv.Value.Kind == MsgKind.Float ? kv.Value.Float : kv.Value.Int;
            if (f.Has("latency_ms"))
                foreach (var kv in f.Raw("latency_ms").Map) m.LatencyMs[kv.Key] = kv.Value.Kind == MsgKind.Float ? kv.Value.Float : kv.Value.Int;
            if (f.Has("capture_step")) m.CaptureStep = f.Str("capture_step");
            if (f.Has("capture_instruction")) m.CaptureInstruction = f.Str("capture_instruction");
            if (f.Has("capture_progress"))
                foreach (var kv in f.Raw("capture_progress").Map) m.CaptureProgress[kv.Key] = kv.Value.Kind == MsgKind.Float ? kv.Value.Float : kv.Value.Int;
            return m;
        }

        static readonly string[] Topics = { WireSpec.RigTopic, WireSpec.FrameTopic, WireSpec.TextureTopic, WireSpec.StatsTopic };

        /// <summary>The topic constant these bytes spell, or null (compared byte by byte: no string made).</summary>
        static string KnownTopic(byte[] b)
        {
            foreach (var t in Topics)
            {
                if (b.Length != t.Length) continue;
                int i = 0;
                while (i < b.Length && b[i] == t[i]) i++;
                if (i == b.Length) return t;
            }
            return null;
        }

        static string Printable(byte[] b)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < b.Length && i < 40; i++) sb.Append(b[i] >= 0x20 && b[i] < 0x7f ? ((char)b[i]).ToString() : "\\x" + b[i].ToString("x2"));
            return sb.ToString();
        }

        /// <summary>What a thread's decodes reuse: the msgpack arena and the field tables.</summary>
        sealed class Scratch
        {
            [ThreadStatic] static Scratch _current;

            public readonly MsgArena Arena = new MsgArena();
            readonly List<Fields> _fields = new List<Fields>();
            int _used;

            public static Scratch ForThisThread()
            {
                var s = _current ?? (_current = new Scratch());
                s._used = 0;
                return s;
            }

            public Fields Fields(MsgValue map, IList<byte[]> frames, string where, int index, FieldSpec[] spec)
            {
                if (_used == _fields.Count) _fields.Add(new Fields());
                var f = _fields[_used++];
                f.Read(map, frames, where, index, spec);
                return f;
            }
        }

        /// <summary>An array field as validated: its dtype, element count and bytes.</summary>
        struct ArrayField
        {
            public string Dtype;
            public int Count;
            public ArraySegment<byte> Data;
        }

        /// <summary>The validated fields of one map, by the spec; unknown fields are ignored. Reused from message to
        /// message (Read clears it); the names of fields in error messages are only put together when one is thrown.</summary>
        sealed class Fields
        {
            readonly Dictionary<string, MsgValue> _values = new Dictionary<string, MsgValue>();
            readonly Dictionary<string, ArrayField> _arrays = new Dictionary<string, ArrayField>();
            readonly Dictionary<string, ArraySegment<byte>> _blobs = new Dictionary<string, ArraySegment<byte>>();
            string _where;
            int _index;
            int[] _shape = new int[4];

            string Where { get { return _index < 0 ? _where : _where + "[" + _index + "]"; } }
            string At(FieldSpec fs) { return Where + "." + fs.Name; }

            public void Read(MsgValue map, IList<byte[]> frames, string where, int index, FieldSpec[] spec)
            {
                _values.Clear();
                _arrays.Clear();
                _blobs.Clear();
                _where = where;
                _index = index;
                if (map == null || map.Kind != MsgKind.Map) throw new WireException(Where + ": expected a map, got " + (map == null ? "nothing" : map.Kind.ToString()));
                foreach (var fs in spec)
                {
                    MsgValue v;
                    if (!map.Map.TryGetValue(fs.Name, out v))
                    {
                        if (fs.Optional) continue;  // added by a minor version: an older writer leaves it out (the getters give the default)
                        throw new WireException(Where + ": missing field '" + fs.Name + "'");
                    }
                    switch (fs.Type)
                    {
                        case FieldType.Int:
                            if (v.Kind != MsgKind.Int) throw new WireException(At(fs) + ": expected int, got " + v.Kind);
                            break;
                        case FieldType.Float:
                            if (v.Kind != MsgKind.Float && v.Kind != MsgKind.Int) throw new WireException(At(fs) + ": expected float, got " + v.Kind);
                            break;
                        case FieldType.Bool:
                            if (v.Kind != MsgKind.Bool) throw new WireException(At(fs) + ": expected bool, got " + v.Kind);
                            break;
                        case FieldType.Str:
                            if (v.Kind != MsgKind.Str) throw new WireException(At(fs) + ": expected str, got " + v.Kind);
                            if (fs.Enum != null && Array.IndexOf(fs.Enum, v.Str) < 0)
                                throw new WireException(At(fs) + ": '" + v.Str + "' is not one of " + string.Join(", ", fs.Enum));
                            break;
                        case FieldType.StrList:
                            if (v.Kind != MsgKind.Array) throw new WireException(At(fs) + ": expected a list of str, got " + v.Kind);
                            foreach (var e in v.Array) if (e.Kind != MsgKind.Str) throw new WireException(At(fs) + ": expected a list of str");
                            break;
                        case FieldType.HandList:
                            if (v.Kind != MsgKind.Array) throw new WireException(At(fs) + ": expected a list, got " + v.Kind);
                            break;
                        case FieldType.StrFloatMap:
                            if (v.Kind != MsgKind.Map) throw new WireException(At(fs) + ": expected a map, got " + v.Kind);
                            foreach (var kv in v.Map) if (!kv.Value.IsNumber || kv.Value.Kind == MsgKind.UInt) throw new WireException(At(fs) + "." + kv.Key + ": expected float");
                            break;
                        case FieldType.Blob:
                            _blobs[fs.Name] = BlobOf(v, frames, fs);
                            break;
                        case FieldType.Array:
                            _arrays[fs.Name] = ArrayOf(v, frames, fs);
                            break;
                    }
                    _values[fs.Name] = v;
                }
            }

            ArraySegment<byte> BlobOf(MsgValue v, IList<byte[]> frames, FieldSpec fs)
            {
                if (v.Kind == MsgKind.Bin) return v.Bin;
                if (v.Kind == MsgKind.Map)
                {
                    var data = v.Get("data");
                    if (data != null)
                    {
                        if (data.Kind != MsgKind.Bin) throw new WireException(At(fs) + ": data must be bytes");
                        return data.Bin;
                    }
                    var part = v.Get("part");
                    if (part != null)
                    {
                        if (part.Kind != MsgKind.Int || part.Int < 2 || part.Int >= frames.Count)
                            throw new WireException(At(fs) + ": refers to multipart frame " + part + ", but the message has " + frames.Count + " frames (truncated?)");
                        var b = frames[(int)part.Int];
                        return new ArraySegment<byte>(b, 0, b.Length);
                    }
                }
                throw new WireException(At(fs) + ": expected bytes or {part: k}, got " + v.Kind);
            }

            ArrayField ArrayOf(MsgValue v, IList<byte[]> frames, FieldSpec fs)
            {
                if (v.Kind != MsgKind.Map || v.Get("dtype") == null || v.Get("shape") == null)
                    throw new WireException(At(fs) + ": expected an array {dtype, shape, data|part}, got " + v.Kind);
                var dt = v.Get("dtype");
                if (dt.Kind != MsgKind.Str || Array.IndexOf(WireSpec.DTypes, dt.Str) < 0)
                    throw new WireException(At(fs) + ": dtype " + dt + " is not one of " + string.Join(" ", WireSpec.DTypes));
                var sh = v.Get("shape");
                if (sh.Kind != MsgKind.Array) throw new WireException(At(fs) + ": bad shape " + sh);
                int rank = sh.Array.Count;
                if (_shape.Length < rank) _shape = new int[rank];
                long n = 1;
                for (int i = 0; i < rank; i++)
                {
                    var d = sh.Array[i];
                    if (d.Kind != MsgKind.Int || d.Int < 0 || d.Int > int.MaxValue) throw new WireException(At(fs) + ": bad shape");
                    _shape[i] = (int)d.Int;
                    n *= d.Int;
                    if (n > int.MaxValue) throw new WireException(At(fs) + ": shape too large");
                }
                var data = BlobOf(v, frames, fs);
                long bytes = n * WireArray.ItemSize(dt.Str);
                if (data.Count != bytes)
                    throw new WireException(At(fs) + ": " + data.Count + " bytes for a " + dt.Str + " array of " + n + " elements (" + bytes + " bytes): truncated or corrupt");
                if (fs.Dtype != null && fs.Dtype != dt.Str) throw new WireException(At(fs) + ": dtype " + dt.Str + ", the spec says " + fs.Dtype);
                if (fs.Shape.Length != rank) throw new WireException(At(fs) + ": " + rank + " dimensions, the spec says " + fs.Shape.Length);
                for (int i = 0; i < rank; i++)
                    if (fs.Shape[i] >= 0 && fs.Shape[i] != _shape[i])
                        throw new WireException(At(fs) + ": shape [" + string.Join(",", Dims(rank)) + "], the spec says [" + string.Join(",", fs.Shape) + "]");
                return new ArrayField { Dtype = dt.Str, Count = (int)n, Data = data };
            }

            string[] Dims(int rank)
            {
                var r = new string[rank];
                for (int i = 0; i < rank; i++) r[i] = _shape[i].ToString();
                return r;
            }

            public MsgValue Raw(string name) { return _values[name]; }
            /// <summary>Whether the message carries the field (an optional one, added by a minor version, may be absent).</summary>
            public bool Has(string name) { return _values.ContainsKey(name); }
            public long Int(string name) { return _values[name].Int; }
            public int Int32(string name)
            {
                long v = _values[name].Int;
                if (v < int.MinValue || v > int.MaxValue) throw new WireException(Where + "." + name + ": " + v + " out of range");
                return (int)v;
            }
            public double Double(string name) { var v = _values[name]; return v.Kind == MsgKind.Float ? v.Float : v.Int; }
            public bool Bool(string name) { return _values[name].Bool; }
            public string Str(string name) { return _values[name].Str; }
            public Handedness Side(string name) { return _values[name].Str == "left" ? Handedness.Left : Handedness.Right; }
            public float[] Floats(string name, float[] reuse = null)
            {
                var a = _arrays[name];
                return WireArray.ReadFloats(a.Dtype, a.Data, a.Count, reuse);
            }
            public int[] Ints(string name)
            {
                var a = _arrays[name];
                return WireArray.ReadInts(a.Dtype, a.Data, a.Count);
            }
            public ArraySegment<byte> Blob(string name) { return _blobs[name]; }
            public string[] StrList(string name)
            {
                var a = _values[name].Array;
                var r = new string[a.Count];
                for (int i = 0; i < r.Length; i++) r[i] = a[i].Str;
                return r;
            }
        }
    }
}
