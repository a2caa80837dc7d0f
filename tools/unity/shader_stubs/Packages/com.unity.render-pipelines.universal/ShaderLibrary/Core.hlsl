// Stand-in for URP's ShaderLibrary/Core.hlsl (type check only): the macros and functions RealHands' shaders use,
// with URP's names and signatures (URP 12, Unity 2021.3), simplified bodies.
#ifndef UNIVERSAL_PIPELINE_CORE_INCLUDED
#define UNIVERSAL_PIPELINE_CORE_INCLUDED

#define real half
#define TEXTURE2D(textureName) Texture2D textureName
#define SAMPLER(samplerName) SamplerState samplerName
#define SAMPLE_TEXTURE2D(textureName, samplerName, coord2) textureName.Sample(samplerName, coord2)
#define CBUFFER_START(name) cbuffer name {
#define CBUFFER_END };
#define TRANSFORM_TEX(tex, name) ((tex.xy) * name##_ST.xy + name##_ST.zw)

float4x4 unity_ObjectToWorld;
float4x4 unity_WorldToObject;
float4x4 unity_MatrixVP;
float3 _WorldSpaceCameraPos;
half4 unity_FogColor;

float3 TransformObjectToWorld(float3 positionOS) { return mul(unity_ObjectToWorld, float4(positionOS, 1.0)).xyz; }
float4 TransformWorldToHClip(float3 positionWS) { return mul(unity_MatrixVP, float4(positionWS, 1.0)); }
float3 TransformObjectToWorldNormal(float3 normalOS, bool doNormalize = true)
{
    float3 n = mul(normalOS, (float3x3)unity_WorldToObject);
    return doNormalize ? normalize(n) : n;
}
half3 GetWorldSpaceNormalizeViewDir(float3 positionWS) { return half3(normalize(_WorldSpaceCameraPos - positionWS)); }
real ComputeFogFactor(float zPositionCS) { return real(saturate(1.0 - zPositionCS)); }
half3 MixFog(half3 fragColor, half fogFactor) { return lerp(unity_FogColor.rgb, fragColor, fogFactor); }

#endif
