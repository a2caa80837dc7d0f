// RealHands skin in the Universal Render Pipeline: main light with its shadows, the additional lights (forward
// path), ambient light probes, fog.
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
};

struct Varyings
{
    float4 positionCS : SV_POSITION;
    float3 positionWS : TEXCOORD0;
    float3 normalWS : TEXCOORD1;
    float2 uv : TEXCOORD2;
    half fogFactor : TEXCOORD3;
};

Varyings vert(Attributes input)
{
    Varyings o;
    o.positionWS = TransformObjectToWorld(input.positionOS.xyz);
    o.positionCS = TransformWorldToHClip(o.positionWS);
    o.normalWS = TransformObjectToWorldNormal(input.normalOS);
    o.uv = TRANSFORM_TEX(input.uv, _MainTex);
    o.fogFactor = ComputeFogFactor(o.positionCS.z);
    return o;
}

half4 frag(Varyings input) : SV_Target
{
    RealHandsFade(_BaseColor.a, input.positionCS.xy);
    RealHandsSkinSurface s;
    s.albedo = SAMPLE_TEXTURE2D(_MainTex, sampler_MainTex, input.uv).rgb * _BaseColor.rgb;
    s.normal = normalize(input.normalWS);
    s.view = GetWorldSpaceNormalizeViewDir(input.positionWS);
    s.wrap = _Wrap;
    s.scatter = _ScatterColor.rgb;
    s.smoothness = _Smoothness;
    s.specular = _Specular;
    half3 color = SampleSH(s.normal) * s.albedo;
    Light mainLight = GetMainLight(TransformWorldToShadowCoord(input.positionWS));
    color += RealHandsSkinLight(s, mainLight.direction, mainLight.color,
                                mainLight.distanceAttenuation * mainLight.shadowAttenuation);
#ifdef _ADDITIONAL_LIGHTS
    int count = GetAdditionalLightsCount();
    for (int k = 0; k < count; k++)
    {
        Light light = GetAdditionalLight((uint)k, input.positionWS);
        color += RealHandsSkinLight(s, light.direction, light.color,
                                    light.distanceAttenuation * light.shadowAttenuation);
    }
#endif
    color = MixFog(color, input.fogFactor);
    return half4(color, 1.0);
}

#endif
