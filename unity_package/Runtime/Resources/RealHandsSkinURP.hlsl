// RealHands skin in the Universal Render Pipeline: the forward pass (forward-only, so the Deferred path draws it
// too; main light with its shadows, cascaded or screen-space; the additional lights of the forward path with
// theirs; ambient light probes; fog) and, with REALHANDS_SHADOW_CASTER / REALHANDS_DEPTH_ONLY /
// REALHANDS_DEPTH_NORMALS, the shadow, depth and depth-normals passes (the latter packed octahedrally where the
// Deferred path's accurate G-buffer normals ask for it, _GBUFFER_NORMALS_OCT). Every pass applies the screen-door fade, so a fading hand's shadow, depth and SSAO fade with it, and
// every pass shares one UnityPerMaterial layout (SRP Batcher). Single-pass instanced stereo (XR) throughout.
#ifndef REALHANDS_SKIN_URP_INCLUDED
#define REALHANDS_SKIN_URP_INCLUDED

#include "Packages/com.unity.render-pipelines.universal/ShaderLibrary/Core.hlsl"
#include "Packages/com.unity.render-pipelines.universal/ShaderLibrary/Lighting.hlsl"
#include "RealHandsSkinCore.hlsl"

TEXTURE2D(_MainTex);
SAMPLER(sampler_MainTex);

CBUFFER_START(UnityPerMaterial)
    float4 _MainTex_ST;
    half4 _Color;
    half4 _BaseColor;
    half _Wrap;
    half4 _ScatterColor;
    half _Smoothness;
    half _Specular;
CBUFFER_END

struct Attributes
{
    float4 positionOS : POSITION;
    float3 normalOS : NORMAL;
    float2 uv : TEXCOORD0;
    UNITY_VERTEX_INPUT_INSTANCE_ID
};

struct Varyings
{
    float4 positionCS : SV_POSITION;
    float3 positionWS : TEXCOORD0;
    float3 normalWS : TEXCOORD1;
    float2 uv : TEXCOORD2;
    half fogFactor : TEXCOORD3;
    float4 screenPos : TEXCOORD4;  // for screen-space main-light shadows
    UNITY_VERTEX_INPUT_INSTANCE_ID
    UNITY_VERTEX_OUTPUT_STEREO
};

#if defined(REALHANDS_SHADOW_CASTER)
float3 _LightDirection;  // set by URP for the shadow caster pass: directional lights
float3 _LightPosition;   // ... punctual lights (_CASTING_PUNCTUAL_LIGHT_SHADOW)
#endif

Varyings vert(Attributes input)
{
    Varyings o = (Varyings)0;
    UNITY_SETUP_INSTANCE_ID(input);
    UNITY_TRANSFER_INSTANCE_ID(input, o);
    UNITY_INITIALIZE_VERTEX_OUTPUT_STEREO(o);
    o.positionWS = TransformObjectToWorld(input.positionOS.xyz);
    o.normalWS = TransformObjectToWorldNormal(input.normalOS);
#if defined(REALHANDS_SHADOW_CASTER)
    #if defined(_CASTING_PUNCTUAL_LIGHT_SHADOW)
        float3 toLight = normalize(_LightPosition - o.positionWS);
    #else
        float3 toLight = _LightDirection;
    #endif
    o.positionCS = TransformWorldToHClip(ApplyShadowBias(o.positionWS, o.normalWS, toLight));
    #if UNITY_REVERSED_Z
        o.positionCS.z = min(o.positionCS.z, UNITY_NEAR_CLIP_VALUE);
    #else
        o.positionCS.z = max(o.positionCS.z, UNITY_NEAR_CLIP_VALUE);
    #endif
#else
    o.positionCS = TransformWorldToHClip(o.positionWS);
#endif
    o.uv = TRANSFORM_TEX(input.uv, _MainTex);
    o.fogFactor = ComputeFogFactor(o.positionCS.z);
    o.screenPos = ComputeScreenPos(o.positionCS);
    return o;
}

half4 frag(Varyings input) : SV_Target
{
    UNITY_SETUP_INSTANCE_ID(input);
    UNITY_SETUP_STEREO_EYE_INDEX_POST_VERTEX(input);
    RealHandsFade(_BaseColor.a, input.positionCS.xy);
#if defined(REALHANDS_SHADOW_CASTER) || defined(REALHANDS_DEPTH_ONLY)
    return 0;
#elif defined(REALHANDS_DEPTH_NORMALS)
    #if defined(_GBUFFER_NORMALS_OCT)
        float2 octahedral = PackNormalOctQuadEncode(normalize(input.normalWS));  // [-1, 1]
        return half4(PackFloat2To888(saturate(octahedral * 0.5 + 0.5)), 0.0);
    #else
        return half4(NormalizeNormalPerPixel(input.normalWS), 0.0);
    #endif
#else
    RealHandsSkinSurface s;
    s.albedo = SAMPLE_TEXTURE2D(_MainTex, sampler_MainTex, input.uv).rgb * _BaseColor.rgb;
    s.normal = normalize(input.normalWS);
    s.view = GetWorldSpaceNormalizeViewDir(input.positionWS);
    s.wrap = _Wrap;
    s.scatter = _ScatterColor.rgb;
    s.smoothness = _Smoothness;
    s.specular = _Specular;
    half3 color = SampleSH(s.normal) * s.albedo;
    #if defined(_MAIN_LIGHT_SHADOWS_SCREEN)
        float4 shadowCoord = input.screenPos;  // the screen-space shadow texture is sampled at the pixel
    #else
        float4 shadowCoord = TransformWorldToShadowCoord(input.positionWS);
    #endif
    Light mainLight = GetMainLight(shadowCoord);
    color += RealHandsSkinLight(s, mainLight.direction, mainLight.color,
                                mainLight.distanceAttenuation * mainLight.shadowAttenuation);
    #if defined(_ADDITIONAL_LIGHTS)
        int count = GetAdditionalLightsCount();
        for (int k = 0; k < count; k++)
        {
            Light light = GetAdditionalLight((uint)k, input.positionWS, half4(1, 1, 1, 1));
            color += RealHandsSkinLight(s, light.direction, light.color,
                                        light.distanceAttenuation * light.shadowAttenuation);
        }
    #endif
    color = MixFog(color, input.fogFactor);
    return half4(color, 1.0);
#endif
}

#endif
