cat <<-'END'
	$(not run)
	END
echo $((1+(2*3))) ${x:-$(id)}