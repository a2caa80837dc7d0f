// The user's hand in the engine: albedo from the live or saved texture atlas, lit as skin (wrap lighting with a
// scatter colour, a soft sheen), faded by screen-door transparency in every pass (colour, shadows, depth). A
// SubShader for the Universal Render Pipeline and one for the built-in pipeline; HDRP uses its own Lit shader as
// subsurface-scattering skin (RealHands.SkinMaterial). The lighting itself is RealHandsSkinCore.hlsl. HandAvatar sets
// _MainTex, and the fade in _Color's and _BaseColor's alpha.
Shader "RealHands/Skin"
{
    Properties
    {
        [MainTexture] _MainTex ("Albedo (the hand's texture atlas)", 2D) = "white" {}
        [MainColor] _Color ("Colour (alpha: the fade)", Color) = (1, 1, 1, 1)
        [HideInInspector] _BaseColor ("Colour (URP's name)", Color) = (1, 1, 1, 1)
        _Wrap ("Wrap: light past the terminator", Range(0, 1)) = 0.5
        _ScatterColor ("Scatter colour of the wrapped light", Color) = (1.0, 0.45, 0.35, 1)
        _Smoothness ("Smoothness", Range(0, 1)) = 0.35
        _Specular ("Sheen", Range(0, 1)) = 0.12
    }

    SubShader
    {
        Tags { "RenderPipeline" = "UniversalPipeline" "RenderType" = "Opaque" "Queue" = "AlphaTest" }
        Pass
        {
            Name "ForwardLit"
            Tags { "LightMode" = "UniversalForwardOnly" }
            HLSLPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile _ _MAIN_LIGHT_SHADOWS _MAIN_LIGHT_SHADOWS_CASCADE _MAIN_LIGHT_SHADOWS_SCREEN
            #pragma multi_compile _ _ADDITIONAL_LIGHTS
            #pragma multi_compile _ _ADDITIONAL_LIGHT_SHADOWS
            #pragma multi_compile_fragment _ _SHADOWS_SOFT
            #pragma multi_compile_fog
            #pragma multi_compile_instancing
            #include "RealHandsSkinURP.hlsl"
            ENDHLSL
        }
        Pass
        {
            Name "ShadowCaster"
            Tags { "LightMode" = "ShadowCaster" }
            ZWrite On
            ZTest LEqual
            ColorMask 0
            HLSLPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile_vertex _ _CASTING_PUNCTUAL_LIGHT_SHADOW
            #pragma multi_compile_instancing
            #define REALHANDS_SHADOW_CASTER
            #include "RealHandsSkinURP.hlsl"
            ENDHLSL
        }
        Pass
        {
            Name "DepthOnly"
            Tags { "LightMode" = "DepthOnly" }
            ZWrite On
            ColorMask 0
            HLSLPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile_instancing
            #define REALHANDS_DEPTH_ONLY
            #include "RealHandsSkinURP.hlsl"
            ENDHLSL
        }
        Pass
        {
            Name "DepthNormals"
            Tags { "LightMode" = "DepthNormals" }
            ZWrite On
            HLSLPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile_instancing
            #define REALHANDS_DEPTH_NORMALS
            #include "RealHandsSkinURP.hlsl"
            ENDHLSL
        }
        Pass
        {
            Name "DepthNormalsOnly"
            Tags { "LightMode" = "DepthNormalsOnly" }
            ZWrite On
            HLSLPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile_fragment _ _GBUFFER_NORMALS_OCT
            #pragma multi_compile_instancing
            #define REALHANDS_DEPTH_NORMALS
            #include "RealHandsSkinURP.hlsl"
            ENDHLSL
        }
    }

    SubShader
    {
        Tags { "RenderType" = "Opaque" "Queue" = "AlphaTest" }
        Pass
        {
            Name "FORWARD"
            Tags { "LightMode" = "ForwardBase" }
            CGPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile_fwdbase
            #pragma multi_compile_fog
            #pragma multi_compile_instancing
            #include "RealHandsSkinBuiltin.cginc"
            ENDCG
        }
        Pass
        {
            Name "FORWARD_DELTA"
            Tags { "LightMode" = "ForwardAdd" }
            Blend One One
            ZWrite Off
            CGPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile_fwdadd_fullshadows
            #pragma multi_compile_fog
            #pragma multi_compile_instancing
            #define REALHANDS_FORWARD_ADD
            #include "RealHandsSkinBuiltin.cginc"
            ENDCG
        }
        Pass
        {
            Name "ShadowCaster"
            Tags { "LightMode" = "ShadowCaster" }
            CGPROGRAM
            #pragma target 3.5
            #pragma vertex vert
            #pragma fragment frag
            #pragma multi_compile_shadowcaster
            #pragma multi_compile_instancing
            #define REALHANDS_SHADOW_CASTER
            #include "RealHandsSkinBuiltin.cginc"
            ENDCG
        }
    }

    Fallback "Legacy Shaders/Diffuse"
}
