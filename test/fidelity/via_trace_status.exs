defmodule W do
  use GenServer
  def init(s), do: {:ok, s}
  def handle_call(:get, _f, s), do: {:reply, s, s}
end
{:ok, _} = Registry.start_link(keys: :unique, name: :reg)
{:ok, p} = GenServer.start(W, 1, name: {:via, Registry, {:reg, "alice"}})
:sys.trace(p, true)
GenServer.call(p, :get)
{:status, _, _, [_, _, _, _, [header: h] ++ _]} = :sys.get_status(p)
IO.inspect(h, label: "via header")
{:ok, g} = GenServer.start(W, 2, name: {:global, :gname})
:sys.trace(g, true)
GenServer.call(g, :get)
{:status, _, _, [_, _, _, _, [header: h2] ++ _]} = :sys.get_status(g)
IO.inspect(h2, label: "global header")
