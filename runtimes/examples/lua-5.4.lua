-- Lua 5.4: <const> and <close> local attributes, integer division and the integer subtype.
local limit <const> = 10
local total = 0
for i = 1, limit do total = total + i end
print("sum:", total, "half:", total // 2)
print("integer:", math.type(total), "float:", math.type(total / 2))
do
  local handle <close> = setmetatable({}, { __close = function() print("closed") end })
end
print(_VERSION)
