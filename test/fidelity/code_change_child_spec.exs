# monitor existing registered name
{:ok, a} = Agent.start(fn -> 0 end, name: :reg_a)
ref = Process.monitor(:reg_a)
Process.exit(a, :kill)
receive do m -> IO.inspect(m, label: "monitor existing name") end
# link dead, elixir
dead = spawn(fn -> :ok end); Process.sleep(10)
r = try do Process.link(dead) rescue e -> e end
IO.inspect(r, label: "rescue link")
# code_change failing
defmodule CC do
  use GenServer
  def init(s), do: {:ok, s}
  def code_change(_old, _s, _extra), do: raise "nope"
end
{:ok, s} = GenServer.start(CC, 1)
:sys.suspend(s)
IO.inspect(:sys.change_code(s, CC, :old, :extra), label: "change_code raise")
defmodule CC2 do
  use GenServer
  def init(s), do: {:ok, s}
  def code_change(_old, _s, _extra), do: {:error, :why}
end
{:ok, s2} = GenServer.start(CC2, 1)
:sys.suspend(s2)
IO.inspect(:sys.change_code(s2, CC2, :old, :extra), label: "change_code error")
defmodule CC3 do
  use GenServer
  def init(s), do: {:ok, s}
  def code_change(_old, _s, _extra), do: :weird
end
{:ok, s3} = GenServer.start(CC3, 1)
:sys.suspend(s3)
IO.inspect(:sys.change_code(s3, CC3, :old, :extra), label: "change_code weird")
defmodule CC4 do
  use GenServer
  def init(s), do: {:ok, s}
  def code_change(_old, _s, _extra), do: throw(:t)
end
{:ok, s4} = GenServer.start(CC4, 1)
:sys.suspend(s4)
IO.inspect(:sys.change_code(s4, CC4, :old, :extra), label: "change_code throw")
defmodule CC5 do
  use GenServer
  def init(s), do: {:ok, s}
  def code_change(_old, _s, _extra), do: exit(:x)
end
{:ok, s5} = GenServer.start(CC5, 1)
:sys.suspend(s5)
IO.inspect(:sys.change_code(s5, CC5, :old, :extra), label: "change_code exit")
IO.inspect(Process.alive?(s), label: "alive after failing change_code")
# child spec modules
defmodule W do
  use GenServer
  def start_link(a), do: GenServer.start_link(__MODULE__, a)
  def init(s), do: {:ok, s}
end
IO.inspect(Supervisor.child_spec(W, []), label: "child_spec W")
IO.inspect(Supervisor.child_spec(%{id: :x, start: {W, :start_link, [1]}}, []), label: "child_spec map")
{:ok, sup} = Supervisor.start_link([%{id: :x, start: {W, :start_link, [1]}}], strategy: :one_for_one)
IO.inspect(:supervisor.get_childspec(sup, :x), label: "get_childspec map no modules")
IO.inspect(Supervisor.start_child(sup, %{id: :y, start: {W, :start_link, [1]}, restart: :temporary, significant: true}), label: "bad_combination")
IO.inspect(:supervisor.start_child(sup, %{id: :y, start: {W, :start_link, [1]}, restart: :permanent, significant: true}), label: "bad_combination perm")
