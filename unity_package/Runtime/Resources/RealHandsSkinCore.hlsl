// RealHands skin: the lighting of one light on the user's hand, the same in every render pipeline (plain HLSL: no
// pipeline include). Lambert, plus the light that wraps past the terminator as it does through skin (a cheap
// stand-in for subsurface scattering: the wrapped share is tinted by the scatter colour, reddish for skin), plus a
// soft energy-normalised Blinn-Phong sheen. The hand fades by screen-door transparency, so the material stays opaque
// (depth-sorted with the scene, no transparency sorting against the user's other hand).
#ifndef REALHANDS_SKIN_CORE_INCLUDED
#define REALHANDS_SKIN_CORE_INCLUDED

struct RealHandsSkinSurface
{
    half3 albedo;      // the texture times the colour, linear
    half3 normal;      // world space, unit
    half3 view;        // world space, unit, towards the camera
    half wrap;         // 0: plain Lambert; 1: light wraps all the way to the back
    half3 scatter;     // the colour of the wrapped light
    half smoothness;   // 0..1 -> Blinn-Phong exponent 2..2048
    half specular;     // the sheen's strength
};

// One light's contribution: ``direction`` unit, towards the light; ``color`` its colour times intensity;
// ``attenuation`` distance and shadow.
half3 RealHandsSkinLight(RealHandsSkinSurface s, half3 direction, half3 color, half attenuation)
{
    half ndl = dot(s.normal, direction);
    half lambert = saturate(ndl);
    half wrapped = saturate((ndl + s.wrap) / (1.0 + s.wrap));  // >= lambert for any wrap >= 0
    half3 diffuse = s.albedo * (lambert + (wrapped - lambert) * s.scatter);
    half3 halfway = normalize(direction + s.view);
    half power = exp2(1.0 + 10.0 * s.smoothness);
    half sheen = s.specular * pow(saturate(dot(s.normal, halfway)), power) * (power + 2.0) / 8.0 * lambert;
    return (diffuse + sheen) * color * attenuation;
}

// Screen-door fade: a 4x4 ordered-dither threshold per pixel; a pixel is kept while opacity exceeds it, so opacity 1
// keeps every pixel and opacity 0 none.
static const half REALHANDS_BAYER4[16] = { 0.5, 8.5, 2.5, 10.5, 12.5, 4.5, 14.5, 6.5,
                                           3.5, 11.5, 1.5, 9.5, 15.5, 7.5, 13.5, 5.5 };

half RealHandsDitherThreshold(float2 pixel)
{
    uint2 p = uint2(pixel) & 3u;
    return REALHANDS_BAYER4[p.y * 4u + p.x] / 16.0;
}

void RealHandsFade(half opacity, float2 pixel)
{
    clip(opacity - RealHandsDitherThreshold(pixel));
}

#endif
