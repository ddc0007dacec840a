# Associative arrays, and the ${var@U} transformation added in Bash 5.1.
declare -A capitals=([France]=Paris [Japan]=Tokyo [Peru]=Lima)

for country in "${!capitals[@]}"; do
  city=${capitals[$country]}
  echo "$country -> ${city@U}"
done | sort

echo "bash ${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}"
