using System.Collections.Generic;

namespace RealHands.Core.Skinning
{
    /// <summary>An engine mesh of a rig: the wire indexes positions (faces) and texture coordinates (faces_uv)
    /// separately; an engine needs one index per corner. Each render vertex is a unique (mesh vertex, uv) pair.
    /// Triangles are already in Unity's winding (see Conventions).</summary>
    public sealed class RenderMesh
    {
        public int[] SourceVertex;   // render vertex -> rig vertex
        public float[] Uv;           // render vertex -> (u, v), v up
        public int[] Triangles;      // (F*3) render-vertex indices, Unity winding

        public int Count { get { return SourceVertex.Length; } }

        public static RenderMesh Build(HandRig rig)
        {
            var map = new Dictionary<long, int>();
            var src = new List<int>();
            var uv = new List<float>();
            var faces = rig.Faces;
            var tris = new int[faces.Length];
            for (int c = 0; c < faces.Length; c++)
            {
                int v = faces[c], t = rig.FacesUv[c];
                long key = ((long)v << 32) | (uint)t;
                int r;
                if (!map.TryGetValue(key, out r))
                {
                    r = src.Count;
                    map[key] = r;
                    src.Add(v);
                    uv.Add(rig.Uv[2 * t]);
                    uv.Add(rig.Uv[2 * t + 1]);
                }
                tris[c] = r;
            }
            return new RenderMesh { SourceVertex = src.ToArray(), Uv = uv.ToArray(), Triangles = Conventions.ReverseWinding(tris) };
        }

        /// <summary>Per render vertex the (N*3) values of its rig vertex, e.g. skinned or rest positions.</summary>
        public float[] Gather(float[] perRigVertex, float[] result = null)
        {
            if (result == null || result.Length != 3 * Count) result = new float[3 * Count];
            for (int i = 0; i < SourceVertex.Length; i++)
            {
                int s = 3 * SourceVertex[i];
                result[3 * i] = perRigVertex[s]; result[3 * i + 1] = perRigVertex[s + 1]; result[3 * i + 2] = perRigVertex[s + 2];
            }
            return result;
        }
    }
}
