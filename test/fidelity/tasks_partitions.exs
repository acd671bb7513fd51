# Task unsupervised
t = Task.async(fn -> 42 end)
IO.inspect(Task.await(t), label: "await")
t2 = Task.async(fn -> Process.sleep(1000); :late end)
IO.inspect(Task.yield(t2, 10), label: "yield nil")
IO.inspect(Task.shutdown(t2), label: "shutdown running")
t3 = Task.async(fn -> :done end); Process.sleep(10)
IO.inspect(Task.shutdown(t3), label: "shutdown finished")
IO.inspect(Process.info(self(), :links), label: "links after")
parent = self()
{pid, ref} = spawn_monitor(fn ->
  t = Task.async(fn -> Process.sleep(1000) end)
  send(parent, {:task, t})
  Task.await(t, 50)
end)
receive do {:task, t} -> 
  receive do {:DOWN, ^ref, _, _, r} -> IO.inspect(r, label: "await timeout exit"); IO.inspect(Process.alive?(t.pid), label: "task alive after owner exit") end
end
{pid, ref} = spawn_monitor(fn ->
  t = Task.async(fn -> raise "boom" end)
  Task.await(t)
end)
receive do {:DOWN, ^ref, _, _, r} -> IO.inspect(r, label: "crashing task kills caller") end
{pid, ref} = spawn_monitor(fn ->
  Process.flag(:trap_exit, true)
  t = Task.async(fn -> exit(:bad) end)
  Task.await(t)
end)
receive do {:DOWN, ^ref, _, _, r} -> IO.inspect(r, label: "trapping caller await exit") end
t4 = Task.async(fn -> 1 end)
IO.inspect(t4, label: "task struct")
Task.await(t4)
# PartitionSupervisor integer keys
{:ok, _} = PartitionSupervisor.start_link(child_spec: Agent.child_spec(fn -> 0 end), name: :ps, partitions: 4)
for k <- [-7, -1, 0, 5, 13, 1.5, :a, "x", {1, 2}, [1]] do
  {:via, _, _} = v = {:via, PartitionSupervisor, {:ps, k}}
  pid = GenServer.whereis(v)
  ch = PartitionSupervisor.which_children(:ps) |> Enum.find(fn {_, p, _, _} -> p == pid end) |> elem(0)
  IO.puts("partition #{inspect k} -> #{ch}  phash2=#{:erlang.phash2(k, 4)}")
end
