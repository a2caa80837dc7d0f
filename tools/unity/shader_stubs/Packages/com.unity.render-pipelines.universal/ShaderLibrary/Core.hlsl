// Stand-in for URP's ShaderLibrary/Core.hlsl (type check only): the macros and functions RealHands' shaders use,
// with URP's names and signatures (URP 12, Unity 2021.3), simplified bodies.
#ifndef UNIVERSAL_PIPELINE_CORE_INCLUDED
#define UNIVERSAL_PIPELINE_CORE_INCLUDED

#define real half
#define real3 half3
#define real4 half4
#define TEXTURE2D(textureName) Texture2D textureName
#define SAMPLER(samplerName) SamplerState samplerName
#define SAMPLE_TEXTURE2D(textureName, samplerName, coord2) textureName.Sample(samplerName, coord2)
#define CBUFFER_START(name) cbuffer name {
#define CBUFFER_END };
#define TRANSFORM_TEX(tex, name) ((tex.xy) * name##_ST.xy + name##_ST.zw)

#define UNITY_REVERSED_Z 1
#define UNITY_NEAR_CLIP_VALUE (1.0)
// UnityInstancing.hlsl's macros, as with instancing and single-pass instanced stereo on (the stand-in's stereo eye
// field is a plain interpolator)
#define UNITY_VERTEX_INPUT_INSTANCE_ID uint instanceID : SV_InstanceID;
#define UNITY_VERTEX_OUTPUT_STEREO nointerpolation uint stereoTargetEyeIndex : TEXCOORD7;
#define UNITY_SETUP_INSTANCE_ID(input) uint unity_InstanceID_ = (input).instanceID;
#define UNITY_TRANSFER_INSTANCE_ID(input, output) (output).instanceID = (input).instanceID
#define UNITY_INITIALIZE_VERTEX_OUTPUT_STEREO(output) (output).stereoTargetEyeIndex = 0u
#define UNITY_SETUP_STEREO_EYE_INDEX_POST_VERTEX(input) uint unity_StereoEyeIndex_ = (input).stereoTargetEyeIndex;

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
float4 _ProjectionParams;
float4 ComputeScreenPos(float4 positionCS)
{
    float4 o = positionCS * 0.5f;
    o.xy = float2(o.x, o.y * _ProjectionParams.x) + o.w;
    o.zw = positionCS.zw;
    return o;
}
real3 NormalizeNormalPerPixel(real3 normalWS) { return normalize(normalWS); }
// core's Packing.hlsl
float2 PackNormalOctQuadEncode(float3 n)
{
    n *= rcp(max(dot(abs(n), 1.0), 1e-6));
    float t = saturate(-n.z);
    return n.xy + (n.xy >= 0.0 ? t : -t);
}
float3 PackFloat2To888(float2 f)
{
    uint2 i = (uint2)(f * 4095.5);
    uint2 hi = i >> 8;
    uint2 lo = i & 255;
    uint3 cb = uint3(lo, hi.x | (hi.y << 4));
    return cb / 255.0;
}
real ComputeFogFactor(float zPositionCS) { return real(saturate(1.0 - zPositionCS)); }
half3 MixFog(half3 fragColor, half fogFactor) { return lerp(unity_FogColor.rgb, fragColor, fogFactor); }

#endif
