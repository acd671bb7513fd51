defmodule W do
  use GenServer
  def init(s), do: {:ok, s}
  def handle_call(:get, _f, s), do: {:reply, s, s}
  def handle_cast({:set, v}, _s), do: {:noreply, v}
end
{:ok, _} = Registry.start_link(keys: :unique, name: :reg)
name = {:via, Registry, {:reg, "alice"}}
{:ok, p} = GenServer.start(W, 1, name: name)
IO.inspect(Registry.lookup(:reg, "alice") == [{p, nil}], label: "lookup finds")
IO.inspect(GenServer.start(W, 2, name: name) == {:error, {:already_started, p}}, label: "already_started")
IO.inspect(GenServer.call(name, :get), label: "call via")
GenServer.cast(name, {:set, 5})
IO.inspect(GenServer.call(name, :get), label: "after cast")
IO.inspect(GenServer.whereis(name) == p, label: "whereis")
r = try do send(name, :hi) rescue e -> e end
IO.inspect(r, label: "send via")
IO.inspect(GenServer.cast({:via, Registry, {:reg, "nobody"}}, :x), label: "cast to missing via")
IO.inspect((try do GenServer.call({:via, Registry, {:reg, "nobody"}}, :get) catch :exit, r -> {:exit, r} end), label: "call missing via")
IO.inspect(GenServer.whereis({:via, Registry, {:reg, "nobody"}}), label: "whereis missing")
GenServer.stop(p); Process.sleep(10)
IO.inspect(Registry.lookup(:reg, "alice"), label: "lookup after stop")
# global
gname = {:global, :g1}
{:ok, g} = GenServer.start(W, 7, name: gname)
IO.inspect(GenServer.call(gname, :get), label: "global call")
IO.inspect(GenServer.call({:via, :global, :g1}, :get), label: "via global call")
IO.inspect(:global.whereis_name(:g1) == g, label: "global whereis")
IO.inspect(GenServer.start(W, 7, name: {:via, :global, :g1}) == {:error, {:already_started, g}}, label: "global already")
Process.exit(g, :kill); Process.sleep(10)
IO.inspect(:global.whereis_name(:g1), label: "global after kill")
IO.inspect(:global.register_name(:g2, self()), label: "global register")
IO.inspect(:global.register_name(:g2, self()), label: "global register twice")
IO.inspect(:global.send(:g2, :m) == self(), label: "global send")
IO.inspect((try do :global.send(:nope, :m) catch :exit, r -> {:exit, r} end), label: "global send missing")
IO.inspect(:global.unregister_name(:g2), label: "global unregister")
# Registry.register_name by a different pid
IO.inspect(Registry.register_name({:reg, "k"}, self()), label: "register_name self")
IO.inspect(Registry.register_name({:reg, "k"}, self()), label: "register_name twice")
IO.inspect((try do Registry.send({:reg, "none"}, :m) rescue e -> e end), label: "Registry.send missing")
# PartitionSupervisor via call
{:ok, _} = PartitionSupervisor.start_link(child_spec: {Agent, fn -> :st end}, name: :ps)
IO.inspect(Agent.get({:via, PartitionSupervisor, {:ps, 3}}, & &1), label: "partition via")
