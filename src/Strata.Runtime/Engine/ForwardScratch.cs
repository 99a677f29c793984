using System.Buffers;

namespace Strata.Runtime.Engine;

/// <summary>The intermediate buffers of one forward pass over a few tokens, rented from the shared pool.</summary>
internal sealed class ForwardScratch : IDisposable
{
    private readonly List<float[]> _rented = [];

    public ForwardScratch(LlamaConfig config, int tokens)
    {
        var h = config.HiddenSize;
        Normed = Rent(tokens * h);                          // (tokens, hidden)
        Query = Rent(tokens * h);                           // (tokens, heads, headDim)
        Key = Rent(tokens * config.KeyValueDimension);      // (tokens, kvHeads, headDim)
        Value = Rent(tokens * config.KeyValueDimension);    // (tokens, kvHeads, headDim)
        Attended = Rent(tokens * h);                        // (tokens, heads, headDim)
        Projected = Rent(tokens * h);                       // (tokens, hidden)
        Gate = Rent(tokens * config.IntermediateSize);      // (tokens, intermediate)
        Up = Rent(tokens * config.IntermediateSize);        // (tokens, intermediate)
    }

    public Memory<float> Normed { get; }

    public Memory<float> Query { get; }

    public Memory<float> Key { get; }

    public Memory<float> Value { get; }

    public Memory<float> Attended { get; }

    public Memory<float> Projected { get; }

    public Memory<float> Gate { get; }

    public Memory<float> Up { get; }

    public void Dispose()
    {
        foreach (var array in _rented)
        {
            ArrayPool<float>.Shared.Return(array);
        }

        _rented.Clear();
    }

    private Memory<float> Rent(int length)
    {
        var array = ArrayPool<float>.Shared.Rent(Math.Max(1, length));
        _rented.Add(array);
        return array.AsMemory(0, length);
    }
}
