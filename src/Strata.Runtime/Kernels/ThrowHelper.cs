namespace Strata.Runtime.Kernels;

/// <summary>Throws for the kernels, kept out of line so the hot paths stay small.</summary>
internal static class ThrowHelper
{
    public static void ThrowShape(string buffer, int actual, long expected) =>
        throw new ArgumentException($"Buffer '{buffer}' holds {actual} elements; the shape needs {expected}.", buffer);

    public static void CheckLength(int actual, int expected, string buffer)
    {
        if (actual < expected)
        {
            ThrowShape(buffer, actual, expected);
        }
    }
}
