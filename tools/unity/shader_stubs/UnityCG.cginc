// Stand-in for the built-in pipeline's UnityCG.cginc (type check only): the declarations RealHands' shaders use,
// with Unity's names and signatures (Unity 2021.3 built-in shaders), simplified bodies.
#ifndef UNITY_CG_INCLUDED
#define UNITY_CG_INCLUDED

#define fixed half
#define fixed3 half3
#define fixed4 half4

float4x4 unity_ObjectToWorld;
float4x4 unity_WorldToObject;
float4x4 unity_MatrixVP;
float3 _WorldSpaceCameraPos;
float4 _WorldSpaceLightPos0;
half4 unity_SHAr, unity_SHAg, unity_SHAb;
half4 unity_FogColor;

struct appdata_base
{
    float4 vertex : POSITION;
    float3 normal : NORMAL;
    float4 texcoord : TEXCOORD0;
};

inline float4 UnityObjectToClipPos(in float3 pos)
{
    return mul(unity_MatrixVP, mul(unity_ObjectToWorld, float4(pos, 1.0)));
}
inline float4 UnityObjectToClipPos(float4 pos) { return UnityObjectToClipPos(pos.xyz); }
inline float3 UnityObjectToWorldNormal(in float3 norm) { return normalize(mul(norm, (float3x3)unity_WorldToObject)); }
inline float3 UnityWorldSpaceViewDir(in float3 worldPos) { return _WorldSpaceCameraPos.xyz - worldPos; }
inline float3 UnityWorldSpaceLightDir(in float3 worldPos)
{
    return _WorldSpaceLightPos0.xyz - worldPos * _WorldSpaceLightPos0.w;
}
half3 ShadeSH9(half4 normal)
{
    return half3(dot(unity_SHAr, normal), dot(unity_SHAg, normal), dot(unity_SHAb, normal));
}

#define TRANSFORM_TEX(tex, name) (tex.xy * name##_ST.xy + name##_ST.zw)
#define UNITY_FOG_COORDS(idx) float1 fogCoord : TEXCOORD##idx;
#define UNITY_TRANSFER_FOG(o, outpos) o.fogCoord = (outpos).z  // Unity assigns .x; glslang cannot assign a float1 swizzle
#define UNITY_APPLY_FOG_COLOR(coord, col, fogCol) col.rgb = lerp((fogCol).rgb, (col).rgb, saturate((coord).x))
#define UNITY_APPLY_FOG(coord, col) UNITY_APPLY_FOG_COLOR(coord, col, unity_FogColor)

#endif
