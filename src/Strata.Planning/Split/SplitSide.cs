namespace Strata.Planning.Split;

/// <summary>Where one transformer block of a split request runs.</summary>
public enum SplitSide : byte
{
    /// <summary>On the client device (phone, laptop, edge box); the request starts and ends here.</summary>
    Client,

    /// <summary>On the server.</summary>
    Server,
}
