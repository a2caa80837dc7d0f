using UnityEngine;
using UnityEngine.Rendering;

namespace RealHands
{
    /// <summary>The hand's default material, per render pipeline: RealHands/Skin (Runtime/Resources/RealHandsSkin.shader:
    /// wrap lighting with a scatter colour, a soft sheen, a screen-door fade) in the built-in pipeline and URP; HDRP's own
    /// Lit shader as subsurface-scattering skin in HDRP (assign a skin diffusion profile to it there); the pipeline's
    /// plain lit shader when neither is available.</summary>
    public static class SkinMaterial
    {
        /// <summary>The skin shader's name (Shader "RealHands/Skin").</summary>
        public const string ShaderName = "RealHands/Skin";
        /// <summary>Its path under a Resources folder, which keeps it in player builds.</summary>
        public const string ResourcePath = "RealHandsSkin";
        /// <summary>HDRP Lit's material type for subsurface scattering (_MaterialID: 0 SSS, 1 standard).</summary>
        public const float HdrpSubsurfaceScattering = 0f;

        /// <summary>"Built-in", "URP", "HDRP", or the type name of another scriptable render pipeline.</summary>
        public static string CurrentPipeline()
        {
            var asset = GraphicsSettings.currentRenderPipeline;
            if (asset == null) return "Built-in";
            string type = asset.GetType().Name;
            if (type.Contains("HDRenderPipeline")) return "HDRP";
            if (type.Contains("UniversalRenderPipeline")) return "URP";
            return type;
        }

        /// <summary>A new skin material for the current pipeline (the caller owns and destroys it); Unity's error
        /// shader, with an error logged, when no usable shader exists.</summary>
        public static Material Create()
        {
            if (CurrentPipeline() == "HDRP")
            {
                var lit = Shader.Find("HDRP/Lit");
                if (lit != null)
                {
                    var hd = new Material(lit) { name = "RealHands skin (HDRP Lit, subsurface scattering)" };
                    hd.SetFloat("_MaterialID", HdrpSubsurfaceScattering);
                    hd.EnableKeyword("_MATERIAL_FEATURE_SUBSURFACE_SCATTERING");
                    hd.SetFloat("_Smoothness", 0.35f);
                    ValidateHdrp(hd);
                    return hd;
                }
            }
            var skin = Resources.Load<Shader>(ResourcePath);
            if (skin == null) skin = Shader.Find(ShaderName);
            if (skin != null && skin.isSupported) return new Material(skin) { name = "RealHands skin" };
            var fallback = Shader.Find("Universal Render Pipeline/Lit");
            if (fallback == null) fallback = Shader.Find("Standard");
            if (fallback == null)
            {
                Debug.LogError("RealHands: neither the skin shader nor a lit shader of this render pipeline is " +
                               "available: give Hand Avatar a material (the hand is drawn with Unity's error shader)");
                return new Material(Shader.Find("Hidden/InternalErrorShader")) { name = "RealHands (no shader)" };
            }
            Debug.LogWarning("RealHands: the skin shader is not available here; the hand uses " + fallback.name);
            return new Material(fallback) { name = "RealHands default" };
        }

        /// <summary>HDRP keeps a Lit material's keywords, passes and stencil in step with its properties only when
        /// it is validated (HDMaterial.ValidateMaterial, HDRP 12+); called by reflection, since this assembly does
        /// not reference HDRP. Player builds keep the subsurface variant only when a material asset uses it: for
        /// builds, save this material as an asset (or give Hand Avatar your own skin material).</summary>
        static void ValidateHdrp(Material material)
        {
            var type = System.Type.GetType(
                "UnityEngine.Rendering.HighDefinition.HDMaterial, Unity.RenderPipelines.HighDefinition.Runtime");
            var validate = type != null ? type.GetMethod("ValidateMaterial", new[] { typeof(Material) }) : null;
            if (validate != null) validate.Invoke(null, new object[] { material });
            else Debug.LogWarning("RealHands: HDRP's HDMaterial.ValidateMaterial not found; check the hand " +
                                  "material's Material Type (Subsurface Scattering) in the inspector");
        }
    }
}
