// Stand-in for URP's ShaderLibrary/Lighting.hlsl with RealtimeLights.hlsl, Shadows.hlsl and the SH sampling it
// includes (type check only): URP's names and signatures (URP 12), simplified bodies.
#ifndef UNIVERSAL_LIGHTING_INCLUDED
#define UNIVERSAL_LIGHTING_INCLUDED
#include "Core.hlsl"

float4 _MainLightPosition;
half4 _MainLightColor;
float4x4 _MainLightWorldToShadow;
half4 unity_SHAr, unity_SHAg, unity_SHAb;
float4 _AdditionalLightsPosition[8];
half4 _AdditionalLightsColor[8];
int _AdditionalLightsCount;

struct Light
{
    half3 direction;
    half3 color;
    float distanceAttenuation;
    half shadowAttenuation;
    uint layerMask;
};

float4 TransformWorldToShadowCoord(float3 positionWS) { return mul(_MainLightWorldToShadow, float4(positionWS, 1.0)); }

Light GetMainLight()
{
    Light light;
    light.direction = half3(_MainLightPosition.xyz);
    light.color = _MainLightColor.rgb;
    light.distanceAttenuation = 1.0;
    light.shadowAttenuation = 1.0;
    light.layerMask = 0xFFFFFFFFu;
    return light;
}

Light GetMainLight(float4 shadowCoord)
{
    Light light = GetMainLight();
    light.shadowAttenuation = half(shadowCoord.z >= 0.0 ? 1.0 : 0.5);
    return light;
}

int GetAdditionalLightsCount() { return _AdditionalLightsCount; }

Light GetAdditionalLight(uint i, float3 positionWS)
{
    Light light;
    float3 toLight = _AdditionalLightsPosition[i].xyz - positionWS * _AdditionalLightsPosition[i].w;
    light.direction = half3(normalize(toLight));
    light.color = _AdditionalLightsColor[i].rgb;
    light.distanceAttenuation = 1.0 / max(dot(toLight, toLight), 1e-4);
    light.shadowAttenuation = 1.0;
    light.layerMask = 0xFFFFFFFFu;
    return light;
}

Light GetAdditionalLight(uint i, float3 positionWS, half4 shadowMask)
{
    Light light = GetAdditionalLight(i, positionWS);
    light.shadowAttenuation = shadowMask.x;
    return light;
}

float4 _ShadowBias;  // x: depth bias, y: normal bias
float3 ApplyShadowBias(float3 positionWS, float3 normalWS, float3 lightDirection)
{
    float invNdotL = 1.0 - saturate(dot(lightDirection, normalWS));
    float scale = invNdotL * _ShadowBias.y;
    positionWS = lightDirection * _ShadowBias.xxx + positionWS;
    return normalWS * scale.xxx + positionWS;
}

half3 SampleSH(half3 normalWS)
{
    half4 n = half4(normalWS, 1.0);
    return half3(dot(unity_SHAr, n), dot(unity_SHAg, n), dot(unity_SHAb, n));
}

#endif
