namespace Strata.Core.Models;

/// <summary>Sizes and names of <see cref="Precision"/> values.</summary>
public static class PrecisionInfo
{
    /// <summary>The names accepted by <see cref="Parse"/>, for help texts and error messages.</summary>
    public const string AcceptedNames = "fp32, fp16, bf16, int8, int4 (nf4)";

    /// <summary>Bytes one weight takes in memory (0.5 for 4-bit).</summary>
    public static double BytesPerParameter(Precision precision) => precision switch
    {
        Precision.Fp32 => 4,
        Precision.Fp16 or Precision.Bf16 => 2,
        Precision.Int8 => 1,
        Precision.Int4 => 0.5,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, null),
    };

    /// <summary>Bytes one KV-cache or activation element takes: 4 for fp32 models, else 2 (16-bit).</summary>
    public static int ActivationBytes(Precision precision) => precision == Precision.Fp32 ? 4 : 2;

    /// <summary>The precision the matrix products run in: quantized weights are dequantized to 16-bit.</summary>
    public static Precision ComputePrecision(Precision precision) => precision switch
    {
        Precision.Int8 or Precision.Int4 => Precision.Fp16,
        _ => precision,
    };

    /// <summary>The canonical short name (<c>fp16</c>, <c>int4</c>, ...).</summary>
    public static string Name(Precision precision) => precision.ToString().ToLowerInvariant();

    /// <summary>Parses a precision name; accepts Hugging Face <c>torch_dtype</c> spellings too.</summary>
    /// <returns><see langword="false"/> when the name is not a known precision.</returns>
    public static bool TryParse(string? text, out Precision precision)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "fp32" or "float32" or "float" or "f32": precision = Precision.Fp32; return true;
            case "fp16" or "float16" or "half" or "f16": precision = Precision.Fp16; return true;
            case "bf16" or "bfloat16": precision = Precision.Bf16; return true;
            case "int8" or "i8" or "8bit": precision = Precision.Int8; return true;
            case "int4" or "nf4" or "i4" or "4bit": precision = Precision.Int4; return true;
            default: precision = default; return false;
        }
    }

    /// <summary>Parses a precision name or throws a <see cref="StrataException"/> naming the accepted ones.</summary>
    public static Precision Parse(string? text, string what = "precision") =>
        TryParse(text, out var precision)
            ? precision
            : throw new StrataException($"Unknown {what} '{text}': expected one of {AcceptedNames}.");
}
