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

        /// <summary>A new skin material for the current pipeline (the caller owns and destroys it).</summary>
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
                    return hd;
                }
            }
            var skin = Resources.Load<Shader>(ResourcePath);
            if (skin == null) skin = Shader.Find(ShaderName);
            if (skin != null && skin.isSupported) return new Material(skin) { name = "RealHands skin" };
            var fallback = Shader.Find("Universal Render Pipeline/Lit");
            if (fallback == null) fallback = Shader.Find("Standard");
            Debug.LogWarning("RealHands: the skin shader is not available here; the hand uses " +
                             (fallback != null ? fallback.name : "no") + " shader instead");
            return new Material(fallback) { name = "RealHands default" };
        }
    }
}
