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

// UnityInstancing.cginc's macros, as with instancing and single-pass instanced stereo on (the stand-in's stereo eye
// field is a plain interpolator)
#define UNITY_VERTEX_INPUT_INSTANCE_ID uint instanceID : SV_InstanceID;
#define UNITY_VERTEX_OUTPUT_STEREO nointerpolation uint stereoTargetEyeIndex : TEXCOORD7;
#define UNITY_SETUP_INSTANCE_ID(input) uint unity_InstanceID_ = (input).instanceID;
#define UNITY_TRANSFER_INSTANCE_ID(input, output) (output).instanceID = (input).instanceID
#define UNITY_INITIALIZE_VERTEX_OUTPUT_STEREO(output) (output).stereoTargetEyeIndex = 0u
#define UNITY_SETUP_STEREO_EYE_INDEX_POST_VERTEX(input) uint unity_StereoEyeIndex_ = (input).stereoTargetEyeIndex;

struct appdata_base
{
    float4 vertex : POSITION;
    float3 normal : NORMAL;
    float4 texcoord : TEXCOORD0;
    UNITY_VERTEX_INPUT_INSTANCE_ID
};

struct appdata_full
{
    float4 vertex : POSITION;
    float4 tangent : TANGENT;
    float3 normal : NORMAL;
    float4 texcoord : TEXCOORD0;
    float4 texcoord1 : TEXCOORD1;
    float4 texcoord2 : TEXCOORD2;
    float4 texcoord3 : TEXCOORD3;
    half4 color : COLOR;
    UNITY_VERTEX_INPUT_INSTANCE_ID
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

// the shadow caster pass (as for directional and spot lights; point lights' cube shadows add a vector)
float4 unity_LightShadowBias;
float4 UnityClipSpaceShadowCasterPos(float4 vertex, float3 normal)
{
    float3 wPos = mul(unity_ObjectToWorld, vertex).xyz - UnityObjectToWorldNormal(normal) * unity_LightShadowBias.z;
    return mul(unity_MatrixVP, float4(wPos, 1.0));
}
float4 UnityApplyLinearShadowBias(float4 clipPos) { return clipPos + float4(0, 0, unity_LightShadowBias.x, 0); }
#define V2F_SHADOW_CASTER float4 pos : SV_POSITION
#define TRANSFER_SHADOW_CASTER_NORMALOFFSET(o) o.pos = UnityClipSpaceShadowCasterPos(v.vertex, v.normal); \
    o.pos = UnityApplyLinearShadowBias(o.pos);
#define SHADOW_CASTER_FRAGMENT(i) return 0;

#define TRANSFORM_TEX(tex, name) (tex.xy * name##_ST.xy + name##_ST.zw)
#define UNITY_FOG_COORDS(idx) float1 fogCoord : TEXCOORD##idx;
#define UNITY_TRANSFER_FOG(o, outpos) o.fogCoord = (outpos).z  // Unity assigns .x; glslang cannot assign a float1 swizzle
#define UNITY_APPLY_FOG_COLOR(coord, col, fogCol) col.rgb = lerp((fogCol).rgb, (col).rgb, saturate((coord).x))
#define UNITY_APPLY_FOG(coord, col) UNITY_APPLY_FOG_COLOR(coord, col, unity_FogColor)

#endif
